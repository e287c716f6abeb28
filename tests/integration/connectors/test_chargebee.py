"""Chargebee: v2 API with basic auth, chargebee-idempotency-key, caller-chosen ids, item prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erphub.canonical import SubscriptionItem
from erphub.connectors.chargebee import ChargebeeBilling
from erphub.connectors.interfaces import BillingCustomer, CollectionStrategy, NewSubscription, SubscriptionChange
from erphub.errors import NotFound, Permanent, RateLimited

pytestmark = pytest.mark.integration


@pytest.fixture
def customer_id(connect):
    return connect(ChargebeeBilling).upsert_customer(BillingCustomer(customer_key="acct-1-DE", name="Acme GmbH"),
                                                     idempotency_key="corr-1:customer").id


def test_customer_upsert_creates_once(sandbox, connect, customer_id):
    again = connect(ChargebeeBilling).upsert_customer(BillingCustomer(customer_key="acct-1-DE", name="Acme SE"),
                                                      idempotency_key="corr-2:customer")
    assert again.id == customer_id and again.created is False
    customers = sandbox.records("chargebee", "customer")
    assert len(customers) == 1 and customers[0]["company"] == "Acme SE"


def test_subscription_lifecycle(sandbox, connect, customer_id):
    billing = connect(ChargebeeBilling)
    ref = billing.create_subscription(NewSubscription(
        customer_id=customer_id, currency="EUR", billing_frequency="monthly", start_date=date(2025, 1, 1),
        legal_entity_id="DE", items=[SubscriptionItem(sku="platform", quantity=Decimal(5))]),
        idempotency_key="corr-1:subscription")
    sub = billing.get_subscription(ref.id)
    assert sub.items[0].sku == "platform" and sub.items[0].quantity == 5 and sub.legal_entity_id == "DE"
    billing.change_subscription(ref.id, SubscriptionChange(quantities={"platform": Decimal(8)},
                                                           billing_frequency="annual",
                                                           add_items=[SubscriptionItem(sku="sso")]),
                                idempotency_key="corr-2:change")
    stored = sandbox.records("chargebee", "subscription")[0]
    assert [(i["item_price_id"], i["quantity"]) for i in stored["subscription_items"]] == [
        ("platform-EUR-Yearly", 8), ("sso-EUR-Yearly", 1)]
    billing.set_collection(customer_id, CollectionStrategy(method="send_invoice", days_until_due=30),
                           idempotency_key="corr-3:collection")
    assert sandbox.records("chargebee", "customer")[0]["auto_collection"] == "off"
    assert len(billing.list_invoices(customer_id)) == 1
    billing.cancel_subscription(ref.id, at_period_end=True, idempotency_key="corr-4:cancel")
    assert billing.get_subscription(ref.id).cancel_at_period_end is True


def test_the_same_create_twice_yields_one_subscription(sandbox, connect, customer_id):
    billing = connect(ChargebeeBilling, read_timeout_seconds=0.3)
    request = NewSubscription(customer_id=customer_id, currency="EUR", items=[SubscriptionItem(sku="platform")])
    sandbox.faults.inject("chargebee", "subscription.create", kind="timeout", seconds=1.0, after_commit=True)
    first = billing.create_subscription(request, idempotency_key="corr-5:subscription")
    sandbox.vendors["chargebee"].idempotency.clear()  # even once the key has expired, the chosen id holds
    second = billing.create_subscription(request, idempotency_key="corr-5:subscription")
    assert first.id == second.id and len(sandbox.records("chargebee", "subscription")) == 1


def test_errors_are_typed(sandbox, connect, customer_id):
    billing = connect(ChargebeeBilling, max_attempts=1)
    with pytest.raises(NotFound, match="resource_not_found"):
        billing.get_subscription("nope")
    sandbox.faults.inject("chargebee", "invoice.list", kind="429", retry_after=5)
    with pytest.raises(RateLimited, match="api_request_limit_exceeded"):
        billing.list_invoices(customer_id)


def test_a_wrong_api_key_is_refused(connect, rotate):
    rotate("chargebee", api_key="test_wrong")  # wrong in the secret too: re-reading it cannot help
    billing = connect(ChargebeeBilling)
    with pytest.raises(Permanent, match="api_authentication_failed"):
        billing.list_invoices("x")


def test_only_item_prices_of_the_catalog_can_be_billed(sandbox, connect, customer_id):
    billing = connect(ChargebeeBilling, max_attempts=1)
    with pytest.raises(NotFound, match="UNSOLD-EUR-Yearly not found"):
        billing.create_subscription(NewSubscription(customer_id=customer_id, currency="EUR",
                                                    items=[SubscriptionItem(sku="UNSOLD")]), idempotency_key="k-x")
    billing.create_subscription(NewSubscription(customer_id=customer_id, currency="EUR",
                                                items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(2))]),
                                idempotency_key="k-eur")
    assert sandbox.records("chargebee", "subscription")[0]["subscription_items"][0]["unit_price"] == 110000


def test_a_backdated_subscription_keeps_the_cycle_of_its_start_date():
    from datetime import UTC, datetime

    from local.sandbox.chargebee import current_term

    def ts(day: str) -> int:
        return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())

    def days(term: dict) -> tuple[str, str]:
        return tuple(datetime.fromtimestamp(term[k], UTC).date().isoformat()
                     for k in ("current_term_start", "current_term_end"))

    yearly, quarterly = [{"item_price_id": "PLATFORM-ENT-USD-Yearly"}], [{"item_price_id": "SSO-EUR-Every-3-months"}]
    # a term that started 2024-06-01, created on 2026-12-01: the current term is the one of that cycle holding today
    assert days(current_term(ts("2024-06-01"), yearly, ts("2026-12-01"))) == ("2026-06-01", "2027-06-01")
    assert days(current_term(ts("2024-01-31"), quarterly, ts("2024-06-15"))) == ("2024-04-30", "2024-07-31")
    # a start in the future is the first term
    assert days(current_term(ts("2027-01-01"), yearly, ts("2026-12-01"))) == ("2027-01-01", "2028-01-01")
