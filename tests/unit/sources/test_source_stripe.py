import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from sources_support import NOW, creds, inbound, sample

from erphub.canonical import event_id_for
from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import get_source
from local.sandbox import signing

pytestmark = pytest.mark.unit

stripe = get_source("stripe")
SECRETS = {"current": "whsec_current_test", "previous": "whsec_previous_test"}
URL = "https://hub.example/webhooks/stripe"


def signed(body: bytes, **options):
    headers, body = signing.sign("stripe", body, SECRETS, URL, now=NOW, **options)
    return inbound(body, headers, URL)


def normalized(name: str):
    [event] = stripe.parse(inbound(sample(f"stripe/{name}.json"), {}))
    return stripe.normalize(event)


# --- verification -----------------------------------------------------------------------------------
def test_a_request_signed_with_the_current_secret_is_accepted():
    # Given an event signed as Stripe signs it
    request = signed(sample("stripe/invoice.paid.json"))
    # When it is verified
    stripe.verify(request, creds(**SECRETS))
    # Then nothing is raised, and the header has Stripe's shape
    assert request.headers["stripe-signature"].startswith(f"t={int(NOW.timestamp())},v1=")


def test_a_known_good_signature_computed_independently_is_accepted():
    # Given a signature computed here by hand over "t.body" with the endpoint secret
    body = b'{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{}}}'
    timestamp = "1717243200"  # NOW
    digest = hmac.new(b"whsec_current_test", b"1717243200." + body, hashlib.sha256).hexdigest()
    request = inbound(body, {"Stripe-Signature": f"t={timestamp},v0=deadbeef,v1={digest}"}, URL)
    # When it is verified
    stripe.verify(request, creds(**SECRETS))
    # Then it passes (v0 is ignored), and the signer agrees with the hand-made value
    headers, _ = signing.sign("stripe", body, SECRETS, URL, now=NOW)
    assert headers["Stripe-Signature"] == f"t={timestamp},v1={digest}"


def test_a_tampered_body_is_refused():
    # Given a signed event whose amount was changed in transit
    request = signed(sample("stripe/invoice.paid.json"))
    tampered = inbound(request.body.replace(b"12000000", b"12000001"), dict(request.headers), URL)
    # When it is verified, then it is refused
    with pytest.raises(AuthenticationFailed, match="no v1 signature matches"):
        stripe.verify(tampered, creds(**SECRETS))


def test_a_wrong_secret_is_refused():
    # Given an event signed with a secret the hub does not hold
    request = signed(sample("stripe/invoice.paid.json"), secret="whsec_attacker")
    # When / Then
    with pytest.raises(AuthenticationFailed):
        stripe.verify(request, creds(**SECRETS))


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_300_seconds_is_refused(skew):
    # Given an event signed 301 s before (a replay) or after (a forged future) the time it is received
    headers, body = signing.sign("stripe", sample("stripe/invoice.paid.json"), SECRETS, URL,
                                 now=NOW.timestamp() + skew)
    # When / Then
    with pytest.raises(AuthenticationFailed, match="tolerance"):
        stripe.verify(inbound(body, headers, URL), creds(**SECRETS))


def test_a_signature_299_seconds_old_is_still_accepted():
    headers, body = signing.sign("stripe", sample("stripe/invoice.paid.json"), SECRETS, URL, now=NOW.timestamp() - 299)
    stripe.verify(inbound(body, headers, URL), creds(**SECRETS))


def test_rotation_accepts_the_previous_secret_and_refuses_one_in_neither_slot():
    # Given one request signed with the previous secret and one with a retired secret
    old = signed(sample("stripe/invoice.paid.json"), secret="whsec_previous_test")
    retired = signed(sample("stripe/invoice.paid.json"), secret="whsec_retired")
    # When verified with current + previous
    stripe.verify(old, creds(**SECRETS))
    # Then only the retired one is refused
    with pytest.raises(AuthenticationFailed):
        stripe.verify(retired, creds(**SECRETS))


def test_several_v1_values_during_a_roll_pass_when_any_matches():
    # Given Stripe signing with both the old and the new endpoint secret during its roll
    request = signed(sample("stripe/invoice.paid.json"), secrets=["whsec_unknown_new", "whsec_current_test"])
    # When the hub only knows one of them
    assert request.headers["stripe-signature"].count("v1=") == 2
    stripe.verify(request, creds(current="whsec_current_test"))
    # Then it passes; with neither known it fails
    with pytest.raises(AuthenticationFailed):
        stripe.verify(request, creds(current="whsec_other"))


@pytest.mark.parametrize("header", ["", "t=1717243200", "v1=abc", "t=abc,v1=abc", "t=1717243200,v0=abc"])
def test_a_malformed_signature_header_is_refused(header):
    with pytest.raises(AuthenticationFailed):
        stripe.verify(inbound(b"{}", {"Stripe-Signature": header}, URL), creds(**SECRETS))


# --- envelope -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"object":"customer","id":"cus_1"}',
                                  b'{"object":"event","type":"invoice.paid","data":{"object":{}}}',
                                  b'{"object":"event","id":"evt_1","type":"invoice.paid","data":{}}'])
def test_a_body_that_is_not_a_stripe_event_is_a_bad_envelope(body):
    with pytest.raises(BadEnvelope):
        stripe.parse(inbound(body, {}))


def test_the_vendor_event_id_is_the_event_id():
    [event] = stripe.parse(inbound(sample("stripe/invoice.paid.json"), {}))
    assert (event.vendor_event_id, event.vendor_type) == ("evt_1PQ2aaKZ8gJ0aBcDinvpd01", "invoice.paid")
    assert stripe.acknowledge([event]) is None


# --- normalization --------------------------------------------------------------------------------------
def test_subscription_created_carries_items_quantities_frequency_and_the_crm_correlation():
    # Given Stripe's customer.subscription.created sample
    # When it is normalized
    envelope = normalized("customer.subscription.created")
    sub = envelope.data
    # Then finance sees the subscription in major units, annual, with the seat count and metered usage terms
    assert envelope.type == "billing.subscription.created"
    assert envelope.event_id == event_id_for("stripe", "evt_1PLx2wKZ8gJ0aBcDsubcr01")
    assert envelope.business_key == sub.customer_id == "cus_Q8mZr4TnVb2XyA"
    assert envelope.correlation_id == "contract:salesforce:0065g00000XyZ1AAA"
    assert envelope.version == "1717200002"
    assert (sub.currency, sub.billing_frequency, sub.status) == ("USD", "annual", "active")
    seats, api = sub.items
    assert (seats.sku, seats.quantity, seats.unit_price, seats.legal_entity_id) == (
        "PLATFORM-ENT", Decimal(100), Decimal("1200"), "LE-US")
    assert api.usage is not None and api.usage.overage_unit_price == Decimal("0.01")
    assert sub.contract_id == "0065g00000XyZ1AAA" and str(sub.current_period_end) == "2025-06-01"


def test_subscription_updated_and_deleted():
    updated, deleted = normalized("customer.subscription.updated"), normalized("customer.subscription.deleted")
    assert updated.type == "billing.subscription.updated" and updated.data.items[0].quantity == 150
    assert deleted.type == "billing.subscription.canceled" and deleted.data.status == "canceled"
    assert deleted.data.canceled_at is not None
    # without the carried correlation id the subscription is the correlation
    assert deleted.correlation_id == "subscription:stripe:sub_1PLx2vKZ8gJ0aBcD3eFgHiJk"


@pytest.mark.parametrize(("name", "kind", "status", "paid"), [
    ("invoice.finalized", "billing.invoice.finalized", "open", Decimal(0)),
    ("invoice.paid", "billing.invoice.paid", "paid", Decimal(120000)),
])
def test_invoices_are_in_major_units_with_their_lines(name, kind, status, paid):
    envelope = normalized(name)
    invoice = envelope.data
    assert envelope.type == kind and invoice.status == status
    assert (invoice.invoice_id, invoice.number, invoice.currency) == ("in_1PLx3aKZ8gJ0aBcDinv0001", "ACME-0001", "USD")
    assert invoice.total == Decimal(120000) and invoice.amount_paid == paid
    assert invoice.subscription_id == "sub_1PLx2vKZ8gJ0aBcD3eFgHiJk"
    assert [(line.sku, line.quantity, line.amount) for line in invoice.lines] == [
        ("PLATFORM-ENT", Decimal(100), Decimal(120000))]
    assert envelope.business_key == "cus_Q8mZr4TnVb2XyA"
    assert envelope.correlation_id == "contract:salesforce:0065g00000XyZ1AAA"


def test_payments_succeeded_and_failed():
    ok = normalized("payment_intent.succeeded")
    declined = normalized("payment_intent.payment_failed")
    invoice_failed = normalized("invoice.payment_failed")
    assert ok.type == "billing.payment.succeeded" and ok.data.amount == Decimal(120000) and ok.data.currency == "USD"
    assert ok.data.invoice_id == "in_1PLx3aKZ8gJ0aBcDinv0001" and ok.data.paid_at is not None
    assert declined.type == "billing.payment.failed" and declined.data.amount == Decimal(45000)
    assert declined.data.failure_reason == "Your card has insufficient funds."
    assert invoice_failed.type == "billing.payment.failed"
    assert invoice_failed.data.invoice_id == "in_1PZq7aKZ8gJ0aBcDinv0002"
    assert invoice_failed.business_key == "cus_Q8mZr4TnVb2XyA"


def test_zero_decimal_currencies_are_not_divided():
    # Given a yen invoice of 120000 (Stripe sends JPY in whole yen)
    document = json.loads(sample("stripe/invoice.paid.json"))
    document["data"]["object"].update(currency="jpy", total=120000)
    [event] = stripe.parse(inbound(json.dumps(document).encode(), {}))
    # When / Then
    assert stripe.normalize(event).data.total == Decimal(120000)


def test_an_unrouted_type_is_ignored():
    assert normalized("customer.created") is None


def test_a_payment_without_a_customer_is_unmappable():
    # Given a payment intent with no customer: no billing customer to post it for
    document = json.loads(sample("stripe/payment_intent.succeeded.json"))
    document["data"]["object"]["customer"] = None
    [event] = stripe.parse(inbound(json.dumps(document).encode(), {}))
    # When / Then it is quarantined, not dropped
    with pytest.raises(Unmappable, match="customer"):
        stripe.normalize(event)
