import base64
import json
from decimal import Decimal

import pytest
from sources_support import creds, inbound, sample

from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

chargebee = get_source("chargebee")
SECRETS = {"current": "cb-pass-current", "previous": "cb-pass-previous", "username": "erphub"}
URL = "https://hub.example/webhooks/chargebee"


def signed(body: bytes, **options):
    headers, body = signing.sign("chargebee", body, SECRETS, URL, **options)
    return inbound(body, headers, URL)


def normalized(name: str):
    [event] = chargebee.parse(inbound(sample(f"chargebee/{name}.json"), {}))
    return chargebee.normalize(event)


def test_basic_auth_with_the_current_password_is_accepted_and_matches_a_hand_built_header():
    # Given the header Chargebee sends, built here by hand
    hand_built = "Basic " + base64.b64encode(b"erphub:cb-pass-current").decode()
    # When / Then it verifies, and the signer builds the same header
    chargebee.verify(inbound(b"{}", {"Authorization": hand_built}, URL), creds(**SECRETS))
    assert signed(b"{}").headers["authorization"] == hand_built


def test_wrong_password_wrong_user_and_missing_header_are_refused():
    for request in (signed(b"{}", secret="guess"),
                    inbound(b"{}", {"Authorization": "Basic " + base64.b64encode(b"root:cb-pass-current").decode()}),
                    inbound(b"{}", {}),
                    inbound(b"{}", {"Authorization": "Basic !!!"}),
                    inbound(b"{}", {"Authorization": "Bearer cb-pass-current"})):
        with pytest.raises(AuthenticationFailed):
            chargebee.verify(request, creds(**SECRETS))


def test_rotation_accepts_the_previous_password_and_refuses_a_retired_one():
    chargebee.verify(signed(b"{}", secret="cb-pass-previous"), creds(**SECRETS))
    with pytest.raises(AuthenticationFailed):
        chargebee.verify(signed(b"{}", secret="cb-pass-retired"), creds(**SECRETS))


@pytest.mark.parametrize("body", [b"<xml/>", b"[]", b'{"id":"ev_1","event_type":"x"}', b'{"content":{}}'])
def test_not_a_chargebee_event_is_a_bad_envelope(body):
    with pytest.raises(BadEnvelope):
        chargebee.parse(inbound(body, {}))


def test_subscription_created_is_quarterly_in_euros_with_items():
    envelope = normalized("subscription_created")
    sub = envelope.data
    assert envelope.type == "billing.subscription.created" and envelope.source_event_id == "ev_AzZlGJTs9L2kT6Wd"
    assert envelope.business_key == sub.customer_id == "16CRibSQ4Hw7Z2nN"
    assert envelope.correlation_id == "contract:hubspot:18213454561" and envelope.version == "1717200001"
    assert (sub.currency, sub.billing_frequency, sub.legal_entity_id) == ("EUR", "quarterly", "LE-DE")
    assert [(i.sku, i.quantity, i.unit_price) for i in sub.items] == [
        ("platform-professional-EUR-Every-3-months", Decimal(25), Decimal(1200)),
        ("premium-support-EUR-Every-3-months", Decimal(1), Decimal(1500))]


def test_subscription_changed_and_cancelled():
    changed, cancelled = normalized("subscription_changed"), normalized("subscription_cancelled")
    assert changed.type == "billing.subscription.updated" and changed.data.items[0].quantity == 40
    assert cancelled.type == "billing.subscription.canceled" and cancelled.data.status == "cancelled"
    assert cancelled.data.canceled_at is not None


def test_invoice_generated_is_a_finalized_invoice_in_major_units():
    envelope = normalized("invoice_generated")
    invoice = envelope.data
    assert envelope.type == "billing.invoice.finalized" and envelope.business_key == "16CRibSQ4Hw7Z2nN"
    assert (invoice.invoice_id, invoice.currency, invoice.total, invoice.amount_due) == (
        "EU-2024-0042", "EUR", Decimal("37485"), Decimal("37485"))
    assert [(line.sku, line.quantity, line.amount) for line in invoice.lines] == [
        ("platform-professional-EUR-Every-3-months", Decimal(25), Decimal(30000)),
        ("premium-support-EUR-Every-3-months", Decimal(1), Decimal(1500))]


def test_payments_succeeded_and_failed():
    ok, failed = normalized("payment_succeeded"), normalized("payment_failed")
    assert ok.type == "billing.payment.succeeded"
    assert (ok.data.amount, ok.data.currency, ok.data.invoice_id) == (Decimal("37485"), "EUR", "EU-2024-0042")
    assert failed.type == "billing.payment.failed" and failed.data.failure_reason == "Insufficient funds"


def test_unrouted_types_are_ignored_and_missing_content_is_unmappable():
    assert normalized("customer_changed") is None
    document = json.loads(sample("chargebee/invoice_generated.json"))
    del document["content"]["invoice"]
    [event] = chargebee.parse(inbound(json.dumps(document).encode(), {}))
    with pytest.raises(Unmappable, match=r"content\.invoice"):
        chargebee.normalize(event)
