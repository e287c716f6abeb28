import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from sources_support import creds, inbound, sample

from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

zuora = get_source("zuora")
BASIC = {"current": "zu-pass-current", "previous": "zu-pass-previous", "username": "erphub", "mode": "basic"}
HMAC = {"current": "zu-key-current", "previous": "zu-key-previous", "mode": "hmac"}
URL = "https://hub.example/webhooks/zuora"


def signed(secrets, body: bytes = b'{"eventType":"x","account":{}}', **options):
    headers, body = signing.sign("zuora", body, secrets, URL, notification_id="2c92c0f8", **options)
    return inbound(body, headers, URL)


def normalized(name: str):
    [event] = zuora.parse(inbound(sample(f"zuora/{name}.json"), {"Zuora-Notification-Id": "8a8aa1b2c3d4e5f6"}))
    return zuora.normalize(event)


def test_basic_mode_accepts_current_and_previous_and_refuses_others():
    zuora.verify(signed(BASIC), creds(**BASIC))
    zuora.verify(signed(BASIC, secret="zu-pass-previous"), creds(**BASIC))
    for request in (signed(BASIC, secret="zu-pass-retired"), signed(HMAC)):
        with pytest.raises(AuthenticationFailed):
            zuora.verify(request, creds(**BASIC))


def test_hmac_mode_accepts_a_hand_computed_signature_of_the_body():
    # Given the callout's HMAC (SHA-256 over the body, base64) computed here by hand
    body = sample("zuora/InvoicePosted.json")
    digest = base64.b64encode(hmac.new(b"zu-key-current", body, hashlib.sha256).digest()).decode()
    # When / Then it verifies, and the signer agrees
    zuora.verify(inbound(body, {"X-Zuora-Signature": digest}, URL), creds(**HMAC))
    assert signed(HMAC, body).headers["x-zuora-signature"] == digest


def test_hmac_mode_refuses_tampering_wrong_keys_and_basic_auth_and_accepts_the_previous_key():
    request = signed(HMAC, sample("zuora/InvoicePosted.json"))
    tampered = inbound(request.body.replace(b"68400.00", b"6840.00"), dict(request.headers), URL)
    zuora.verify(signed(HMAC, secret="zu-key-previous"), creds(**HMAC))
    for bad in (tampered, signed(HMAC, secret="zu-key-retired"), signed(BASIC)):
        with pytest.raises(AuthenticationFailed):
            zuora.verify(bad, creds(**HMAC))


def test_an_unknown_mode_is_refused():
    with pytest.raises(AuthenticationFailed, match="unknown authentication mode"):
        zuora.verify(signed(BASIC), creds(**{**BASIC, "mode": "oauth"}))


def test_the_vendor_event_id_is_the_notification_id_header():
    request = signed(BASIC, sample("zuora/InvoicePosted.json"))
    [event] = zuora.parse(request)
    assert event.vendor_event_id == "2c92c0f8" and event.vendor_type == "InvoicePosted"


@pytest.mark.parametrize(("body", "headers"), [
    (b'{"eventType":"InvoicePosted","account":{}}', {}),
    (b"not json", {"Zuora-Notification-Id": "n"}),
    (b'{"account":{}}', {"Zuora-Notification-Id": "n"}),
    (b'{"eventType":"InvoicePosted"}', {"Zuora-Notification-Id": "n"}),
])
def test_bad_envelopes(body, headers):
    with pytest.raises(BadEnvelope):
        zuora.parse(inbound(body, headers))


def test_subscription_lifecycle():
    created, amended, cancelled = (normalized(n) for n in ("SubscriptionCreated", "AmendmentProcessed",
                                                           "SubscriptionCancelled"))
    sub = created.data
    assert created.type == "billing.subscription.created"
    assert created.business_key == sub.customer_id == "8ad09be48db5aba7018dbd3c53c67abc"
    assert created.correlation_id == "contract:salesforce:0065g00000XyZ2AAA"
    assert (sub.subscription_id, sub.currency, sub.billing_frequency, sub.legal_entity_id) == (
        "A-S00001042", "GBP", "annual", "LE-UK")
    assert [(i.sku, i.quantity, i.unit_price) for i in sub.items] == [
        ("SKU-PLATFORM-ENT", Decimal(60), Decimal(950)), ("SKU-API-OVERAGE", Decimal(0), Decimal("0.0004"))]
    assert amended.type == "billing.subscription.updated" and amended.data.items[0].quantity == 80
    assert cancelled.type == "billing.subscription.canceled" and cancelled.data.canceled_at is not None


def test_invoice_payments_and_usage():
    invoice, paid, declined, usage = (normalized(n) for n in ("InvoicePosted", "PaymentProcessed", "PaymentDeclined",
                                                              "UsageRecordCreated"))
    assert invoice.type == "billing.invoice.finalized"
    assert (invoice.data.number, invoice.data.total, invoice.data.currency) == ("INV00004211", Decimal(68400), "GBP")
    assert paid.type == "billing.payment.succeeded" and paid.data.amount == Decimal(68400)
    assert declined.type == "billing.payment.failed" and declined.data.failure_reason == "Do not honor (05)"
    assert usage.type == "billing.usage.recorded"
    assert (usage.data.metric, usage.data.quantity, usage.data.subscription_id) == (
        "Call", Decimal(1250000), "A-S00001042")
    assert invoice.version == "1717230011"  # 09:20:11 +01:00


def test_unrouted_types_are_ignored_and_a_posted_invoice_without_invoice_is_unmappable():
    assert normalized("AccountCreated") is None
    document = json.loads(sample("zuora/InvoicePosted.json"))
    del document["invoice"]
    [event] = zuora.parse(inbound(json.dumps(document).encode(), {"Zuora-Notification-Id": "n"}))
    with pytest.raises(Unmappable, match="invoice"):
        zuora.normalize(event)
