"""Usage terms as Stripe bills them: one billing meter per metric, a graduated metered price per terms, currency
and interval (included units free, then the overage price), no quantity on the subscription item, and the
sandbox refusing what Stripe refuses about meters and metered prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.connectors.interfaces import BillingCustomer, NewSubscription, SubscriptionChange
from erphub.connectors.stripe import StripeBilling
from erphub.errors import ValidationFailed

pytestmark = pytest.mark.integration

API_CALLS = UsageTerms(metric="api_calls", unit="call", included_quantity=Decimal(10_000_000),
                       overage_unit_price=Decimal("0.0004"))


def _customer(billing: StripeBilling, key: str) -> str:
    return billing.upsert_customer(BillingCustomer(customer_key=key, name=key), idempotency_key=f"{key}:c").id


def _usage_item(usage: UsageTerms = API_CALLS) -> SubscriptionItem:
    return SubscriptionItem(sku="API-CALLS", name="API calls", usage=usage)


def test_usage_terms_become_a_meter_and_a_graduated_metered_price(sandbox, connect):
    # Given a deal with seats and API usage (10M calls included, then 0.0004 USD a call)
    billing = connect(StripeBilling)
    customer = _customer(billing, "acct-1:LE-US")
    # When its subscription is created
    ref = billing.create_subscription(NewSubscription(
        customer_id=customer, currency="USD", billing_frequency="annual",
        items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(100)), _usage_item()]), idempotency_key="k-sub")
    # Then Stripe holds one meter on the metric and a metered price on it, without a quantity on the item
    meters = sandbox.records("stripe", "meter")
    assert [(m["event_name"], m["default_aggregation"]["formula"]) for m in meters] == [("api_calls", "sum")]
    item = sandbox.records("stripe", "subscription")[0]["items"]["data"][1]
    price = item["price"]
    assert item["quantity"] is None
    assert price["recurring"] == {"interval": "year", "interval_count": 1, "usage_type": "metered",
                                  "meter": meters[0]["id"]}
    assert price["currency"] == "usd" and price["billing_scheme"] == "tiered" and price["tiers_mode"] == "graduated"
    assert [(t["up_to"], t["unit_amount_decimal"]) for t in price["tiers"]] == [(10_000_000, "0"), (None, "0.04")]
    # And reading the subscription back gives the usage terms, not a quantity
    usage_item = billing.get_subscription(ref.id).items[1]
    assert usage_item.sku == "API-CALLS" and usage_item.quantity == 0
    assert usage_item.usage.included_quantity == 10_000_000 and usage_item.usage.overage_unit_price == Decimal("0.0004")


def test_each_currency_gets_its_own_metered_price_and_the_meter_is_shared(sandbox, connect):
    billing = connect(StripeBilling)
    eur = API_CALLS.model_copy(update={"overage_unit_price": Decimal("0.00037"), "currency": "EUR"})
    for key, currency, usage in (("acct-2:LE-US", "USD", API_CALLS), ("acct-2:LE-DE", "EUR", eur)):
        billing.create_subscription(NewSubscription(customer_id=_customer(billing, key), currency=currency,
                                                    items=[_usage_item(usage)]), idempotency_key=f"{key}:sub")
    prices = {s["currency"]: s["items"]["data"][0]["price"] for s in sandbox.records("stripe", "subscription")}
    assert prices["usd"]["tiers"][1]["unit_amount_decimal"] == "0.04"
    assert prices["eur"]["currency"] == "eur" and prices["eur"]["tiers"][1]["unit_amount_decimal"] == "0.037"
    assert len(sandbox.records("stripe", "meter")) == 1
    # a second connector (a cold Lambda) finds the price by its lookup key instead of creating it again
    again = connect(StripeBilling)
    again.create_subscription(NewSubscription(customer_id=_customer(again, "acct-3:LE-US"), currency="USD",
                                              items=[_usage_item()]), idempotency_key="acct-3:sub")
    metered = [p for p in sandbox.records("stripe", "price") if p["recurring"].get("meter")]
    assert len(metered) == 2


def test_a_frequency_change_moves_the_metered_price_with_its_terms(sandbox, connect):
    billing = connect(StripeBilling)
    ref = billing.create_subscription(NewSubscription(
        customer_id=_customer(billing, "acct-4:LE-US"), billing_frequency="annual",
        items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(5)), _usage_item()]), idempotency_key="k")
    billing.change_subscription(ref.id, SubscriptionChange(billing_frequency="quarterly"), idempotency_key="k2")
    price = sandbox.records("stripe", "subscription")[0]["items"]["data"][1]["price"]
    assert price["recurring"]["interval_count"] == 3 and price["recurring"]["usage_type"] == "metered"
    assert price["tiers"][0]["up_to"] == 10_000_000


def test_usage_measured_on_another_period_than_the_subscription_is_refused(connect):
    billing = connect(StripeBilling)
    monthly = API_CALLS.model_copy(update={"period": "monthly"})
    with pytest.raises(ValidationFailed, match="one interval"):
        billing.create_subscription(NewSubscription(customer_id="cus_x", billing_frequency="annual",
                                                    items=[_usage_item(monthly)]), idempotency_key="k")


@pytest.mark.sends_off_contract
def test_the_sandbox_refuses_a_metered_price_on_a_meter_that_does_not_exist(sandbox, connect):
    billing = connect(StripeBilling)
    response = requests.post(f"{billing.config.base_url}/v1/prices", headers={
        "Authorization": f"Bearer {billing.secret('api_key')[0]}"}, data={
        "currency": "usd", "unit_amount_decimal": "0.04", "recurring[interval]": "month",
        "recurring[usage_type]": "metered", "recurring[meter]": "mtr_missing", "product_data[name]": "x"}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "resource_missing"
    assert response.json()["error"]["param"] == "recurring[meter]"


def test_the_sandbox_refuses_a_tiered_price_without_a_last_open_tier(connect):
    billing = connect(StripeBilling)
    response = requests.post(f"{billing.config.base_url}/v1/prices", headers={
        "Authorization": f"Bearer {billing.secret('api_key')[0]}"}, data={
        "currency": "usd", "billing_scheme": "tiered", "tiers_mode": "graduated", "tiers[0][up_to]": "10",
        "tiers[0][unit_amount]": "0", "tiers[1][up_to]": "20", "tiers[1][unit_amount]": "5",
        "recurring[interval]": "month", "product_data[name]": "x"}, timeout=5)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    assert "inf" in response.json()["error"]["message"]
