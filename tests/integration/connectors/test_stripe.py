"""Stripe: nested form encoding, Idempotency-Key on every POST (replayed by the sandbox as Stripe does),
subscriptions with licensed and metered prices, collection method, invoices."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.connectors.form_encoding import flatten
from erphub.connectors.interfaces import BillingCustomer, CollectionStrategy, NewSubscription, SubscriptionChange
from erphub.connectors.stripe import StripeBilling
from erphub.connectors.stripe_metering import usage_lookup_key
from erphub.errors import Conflict, NotFound, Permanent, RateLimited, Transient, ValidationFailed

pytestmark = pytest.mark.integration

USAGE = UsageTerms(metric="api_calls", overage_unit_price=Decimal("0.01"))


def metered_key(frequency: str, currency: str = "USD", usage: UsageTerms = USAGE) -> str:
    return usage_lookup_key("usage-api", usage, frequency, currency)


def test_nested_fields_are_encoded_as_stripe_documents():
    pairs = flatten({"customer": "cus_1", "items": [{"price": "price_a", "quantity": Decimal("10")},
                                                    {"price": "price_b"}],
                     "metadata": {"contract_id": "006A", "skip": None}, "cancel_at_period_end": True})
    assert urlencode(pairs) == ("customer=cus_1&items%5B0%5D%5Bprice%5D=price_a&items%5B0%5D%5Bquantity%5D=10"
                                "&items%5B1%5D%5Bprice%5D=price_b&metadata%5Bcontract_id%5D=006A"
                                "&cancel_at_period_end=true")


@pytest.fixture
def customer_id(connect):
    return connect(StripeBilling).upsert_customer(
        BillingCustomer(customer_key="acct-1:UK", name="Acme Ltd", email="ap@acme.test", legal_entity_id="UK"),
        idempotency_key="corr-1:customer").id


def test_upsert_customer_finds_the_existing_one(sandbox, connect, customer_id):
    again = connect(StripeBilling).upsert_customer(BillingCustomer(customer_key="acct-1:UK", name="Acme Limited"),
                                                   idempotency_key="corr-2:customer")
    assert again.id == customer_id and again.created is False
    customers = sandbox.records("stripe", "customer")
    assert len(customers) == 1 and customers[0]["name"] == "Acme Limited"
    assert customers[0]["metadata"]["erphub_key"] == "acct-1:UK"


def test_subscription_lifecycle(sandbox, connect, customer_id):
    billing = connect(StripeBilling)
    ref = billing.create_subscription(NewSubscription(
        customer_id=customer_id, currency="USD", billing_frequency="annual", start_date=date.today(),
        legal_entity_id="UK", contract_id="006A",
        items=[SubscriptionItem(sku="platform", quantity=Decimal(10)), SubscriptionItem(sku="usage-api", usage=USAGE)],
    ), idempotency_key="corr-1:subscription")
    sub = billing.get_subscription(ref.id)
    assert [(i.sku, i.quantity) for i in sub.items] == [("platform", 10), ("usage-api", 0)]
    assert sub.legal_entity_id == "UK" and sub.contract_id == "006A" and sub.status == "active"

    more = SubscriptionChange(quantities={"platform": Decimal(12)}, add_items=[SubscriptionItem(sku="sso")])
    billing.change_subscription(ref.id, more, idempotency_key="corr-2:change")
    billing.change_subscription(ref.id, SubscriptionChange(billing_frequency="quarterly", prorate=False),
                                idempotency_key="corr-3:frequency")
    stored = sandbox.records("stripe", "subscription")[0]
    assert [i["price"]["lookup_key"] for i in stored["items"]["data"]] == [
        "platform_quarterly", metered_key("quarterly"), "sso_quarterly"]
    assert stored["items"]["data"][0]["quantity"] == 12 and stored["proration_behavior"] == "none"

    billing.set_collection(customer_id, CollectionStrategy(method="send_invoice", days_until_due=45),
                           idempotency_key="corr-4:collection")
    assert sandbox.records("stripe", "subscription")[0]["collection_method"] == "send_invoice"
    assert sandbox.records("stripe", "subscription")[0]["days_until_due"] == "45"

    invoices = billing.list_invoices(customer_id)
    assert len(invoices) == 1 and invoices[0].total == Decimal(1000)  # 10 x 100.00; metered billed later

    billing.cancel_subscription(ref.id, at_period_end=True, idempotency_key="corr-5:cancel")
    assert billing.get_subscription(ref.id).cancel_at_period_end is True
    billing.cancel_subscription(ref.id, at_period_end=False, idempotency_key="corr-6:cancel")
    assert billing.get_subscription(ref.id).status == "canceled"


def test_a_retried_create_after_a_lost_response_yields_one_subscription(sandbox, connect, customer_id):
    billing = connect(StripeBilling, read_timeout_seconds=0.3)
    request = NewSubscription(customer_id=customer_id, items=[SubscriptionItem(sku="platform")])
    sandbox.faults.inject("stripe", "subscription.create", kind="timeout", seconds=1.0, after_commit=True)
    ref = billing.create_subscription(request, idempotency_key="corr-8:subscription")
    again = billing.create_subscription(request, idempotency_key="corr-8:subscription")
    assert ref.id == again.id and len(sandbox.records("stripe", "subscription")) == 1


def test_a_reused_key_with_other_parameters_is_a_conflict(connect, customer_id):
    billing = connect(StripeBilling)
    billing.create_subscription(NewSubscription(customer_id=customer_id, items=[SubscriptionItem(sku="platform")]),
                                idempotency_key="same")
    with pytest.raises(Conflict, match="idempotency_error"):
        billing.create_subscription(NewSubscription(customer_id=customer_id,
                                                    items=[SubscriptionItem(sku="platform", quantity=Decimal(2))]),
                                    idempotency_key="same")


def test_a_key_still_in_use_elsewhere_is_retried_not_a_conflict(sandbox, connect, customer_id):
    # Given the same idempotency key executing in another request (a concurrent activation creating the same price)
    billing = connect(StripeBilling, max_retry_wait_seconds=1.0)
    running = sandbox.vendors["stripe"].idempotency._running
    running.add("corr-9:subscription")
    threading.Timer(0.3, running.discard, ["corr-9:subscription"]).start()
    # When this request meets Stripe's 409 idempotency_error, it is a Transient, retried until the key is free
    request = NewSubscription(customer_id=customer_id, items=[SubscriptionItem(sku="platform")])
    ref = billing.create_subscription(request, idempotency_key="corr-9:subscription")
    # Then one subscription, created by a later attempt
    assert ref.id and billing.http.attempts >= 2 and len(sandbox.records("stripe", "subscription")) == 1


def test_errors_are_typed(sandbox, connect, customer_id):
    billing = connect(StripeBilling, max_attempts=1)
    with pytest.raises(NotFound, match="resource_missing"):
        billing.get_subscription("sub_missing")
    with pytest.raises(ValidationFailed, match="No such customer"):
        billing.create_subscription(NewSubscription(customer_id="cus_nope", items=[SubscriptionItem(sku="platform")]),
                                    idempotency_key="k1")
    with pytest.raises(ValidationFailed, match="lookup key"):
        billing.price_id("platform", "weekly")
    sandbox.faults.inject("stripe", "subscription.list", kind="429", retry_after=2)
    with pytest.raises(RateLimited, match="rate_limit"):
        billing.set_collection(customer_id, CollectionStrategy(), idempotency_key="k2")


def test_a_wrong_api_key_is_refused(connect, rotate):
    rotate("stripe", api_key="sk_test_wrongwrongwrong")
    billing = connect(StripeBilling)
    with pytest.raises(Permanent, match="Invalid API Key provided: sk_test_\\*\\*\\*\\*"):
        billing.list_invoices("cus_1")


def test_a_rotated_key_is_read_again_after_a_401(sandbox, connect):
    billing = connect(StripeBilling)
    billing._credentials = {"api_key": "sk_test_before_the_rotation"}  # cached before the secret was rotated
    assert billing.list_invoices("cus_1") == []  # 401, the secret is read again, the call succeeds


def _post(billing, path, **params):
    return billing.http.request("POST", path, data=flatten(params), record="raw")


@pytest.mark.sends_off_contract
def test_stripe_refuses_what_stripe_refuses(sandbox, connect, customer_id):
    billing = connect(StripeBilling, max_attempts=1)
    annual, quarterly = billing.price_id("platform", "annual"), billing.price_id("sso", "quarterly")
    metered = billing.price_id("usage-api", "annual")
    # mixed intervals on one subscription
    with pytest.raises(ValidationFailed, match="interval fields must match"):
        _post(billing, "/v1/subscriptions", customer=customer_id, items=[{"price": annual}, {"price": quarterly}])
    # a metered price with a quantity
    with pytest.raises(ValidationFailed, match="Quantity should not be specified"):
        _post(billing, "/v1/subscriptions", customer=customer_id, items=[{"price": metered, "quantity": 1}])
    # a price that does not exist in the subscription's currency
    with pytest.raises(ValidationFailed, match="does not support currency `jpy`"):
        _post(billing, "/v1/subscriptions", customer=customer_id, currency="jpy", items=[{"price": annual}])
    # an anchor in the past
    with pytest.raises(ValidationFailed, match="billing_cycle_anchor must be a future"):
        _post(billing, "/v1/subscriptions", customer=customer_id, items=[{"price": annual}], billing_cycle_anchor=1)
    # a parameter Stripe does not have
    with pytest.raises(ValidationFailed, match="Received unknown parameter: start_date"):
        _post(billing, "/v1/subscriptions", customer=customer_id, items=[{"price": annual}], start_date=1)
    assert sandbox.records("stripe", "subscription") == []
    # one currency per customer: a GBP subscription fixes the customer's currency
    _post(billing, "/v1/subscriptions", customer=customer_id, currency="gbp", items=[{"price": annual}])
    with pytest.raises(ValidationFailed, match="cannot combine currencies on a single customer"):
        _post(billing, "/v1/subscriptions", customer=customer_id, currency="usd", items=[{"price": annual}])
    # and an update may not mix intervals either (what the hub sent before amendments moved every item)
    sub = sandbox.records("stripe", "subscription")[0]
    with pytest.raises(ValidationFailed, match="interval fields must match"):
        _post(billing, f"/v1/subscriptions/{sub['id']}", items=[{"price": quarterly, "quantity": 1}])
    assert len(sandbox.records("stripe", "subscription")[0]["items"]["data"]) == 1


def test_no_price_is_invented(connect):
    with pytest.raises(ValidationFailed, match="no active price with lookup key UNSOLD_annual"):
        connect(StripeBilling).price_id("UNSOLD", "annual")


def test_billing_is_anchored_at_creation_or_on_the_terms_own_cycle(sandbox, connect, customer_id):
    billing, today = connect(StripeBilling), date.today()
    plain = billing.create_subscription(NewSubscription(
        customer_id=customer_id, items=[SubscriptionItem(sku="platform")], start_date=today), idempotency_key="k-now")
    now = billing.get_subscription(plain.id)
    assert now.start_date == today and now.current_period_end == today.replace(year=today.year + 1)
    started = date(today.year - 2, today.month, 1)  # a term that began two years ago on the 1st
    backdated = billing.create_subscription(NewSubscription(
        customer_id=customer_id, items=[SubscriptionItem(sku="sso")], start_date=started),
        idempotency_key="k-backdated")
    sub = billing.get_subscription(backdated.id)
    assert sub.start_date == started
    assert sub.current_period_end.day == 1 and sub.current_period_end.month == today.month
    assert sub.current_period_end > today


def test_a_gbp_subscription_is_billed_at_the_gbp_price(connect, customer_id):
    billing = connect(StripeBilling)
    ref = billing.create_subscription(NewSubscription(
        customer_id=customer_id, currency="GBP", items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(2))]),
        idempotency_key="k-gbp")
    sub = billing.get_subscription(ref.id)
    assert sub.currency == "GBP" and sub.items[0].unit_price == Decimal(950)
    assert billing.list_invoices(customer_id)[0].total == Decimal(1900)


def test_a_retried_amendment_resends_the_same_request_after_a_lost_response(sandbox, connect, customer_id):
    billing = connect(StripeBilling, read_timeout_seconds=0.3, max_attempts=1)
    ref = billing.create_subscription(NewSubscription(
        customer_id=customer_id, billing_frequency="quarterly",
        items=[SubscriptionItem(sku="platform", quantity=Decimal(10)), SubscriptionItem(sku="usage-api", usage=USAGE)]),
        idempotency_key="k-sub")
    change = SubscriptionChange(quantities={"platform": Decimal(15)}, add_items=[SubscriptionItem(sku="sso")])
    # When Stripe applies the change but its response is lost
    sandbox.faults.inject("stripe", "subscription.update", kind="timeout", seconds=1.0, after_commit=True)
    with pytest.raises(Transient):
        billing.change_subscription(ref.id, change, idempotency_key="corr-9:billing.amend:LE-US")
    # Then the retried step sends the same parameters under its key, and Stripe replays its answer
    billing.change_subscription(ref.id, change, idempotency_key="corr-9:billing.amend:LE-US")
    stored = sandbox.records("stripe", "subscription")[0]
    assert [(i["price"]["lookup_key"], i["quantity"]) for i in stored["items"]["data"]] == [
        ("platform_quarterly", 15), (metered_key("quarterly"), None), ("sso_quarterly", 1)]


def test_a_module_added_after_a_frequency_change_takes_the_new_interval(sandbox, connect, customer_id):
    billing = connect(StripeBilling)
    ref = billing.create_subscription(NewSubscription(customer_id=customer_id, billing_frequency="annual",
                                                      items=[SubscriptionItem(sku="platform")]), idempotency_key="k1")
    billing.change_subscription(ref.id, SubscriptionChange(billing_frequency="quarterly"), idempotency_key="k2")
    billing.change_subscription(ref.id, SubscriptionChange(add_items=[SubscriptionItem(sku="sso")]),
                                idempotency_key="k3")
    stored = sandbox.records("stripe", "subscription")[0]
    assert [i["price"]["lookup_key"] for i in stored["items"]["data"]] == ["platform_quarterly", "sso_quarterly"]
    assert stored["metadata"]["billing_frequency"] == "quarterly"
