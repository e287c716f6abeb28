"""Usage terms as Chargebee bills them: the metered item price goes on the subscription without a quantity and
the terms become its item tiers (included units free, then the overage price), kept when the billing frequency
moves the items to other item prices; the sandbox refuses tiers Chargebee would not take."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.connectors.chargebee import ChargebeeBilling
from erphub.connectors.interfaces import BillingCustomer, NewSubscription, SubscriptionChange
from erphub.errors import ValidationFailed

pytestmark = pytest.mark.integration

API_CALLS = UsageTerms(metric="api_calls", unit="call", included_quantity=Decimal(2_000_000),
                       overage_unit_price=Decimal("0.00037"), currency="EUR")


def _subscribe(billing: ChargebeeBilling) -> str:
    customer = billing.upsert_customer(BillingCustomer(customer_key="acct-9-DE", name="Acme GmbH", currency="EUR"),
                                       idempotency_key="c").id
    return billing.create_subscription(NewSubscription(
        customer_id=customer, currency="EUR", billing_frequency="annual",
        items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(20)),
               SubscriptionItem(sku="API-CALLS", usage=API_CALLS)]), idempotency_key="corr-9:sub").id


def test_usage_terms_become_item_tiers_of_a_metered_item_price_without_quantity(sandbox, connect):
    billing = connect(ChargebeeBilling)
    subscription_id = _subscribe(billing)
    [stored] = sandbox.records("chargebee", "subscription")
    metered = next(i for i in stored["subscription_items"] if i["item_price_id"] == "API-CALLS-EUR-Yearly")
    assert metered["quantity"] is None and metered["metered"] is True
    assert [(t["starting_unit"], t["ending_unit"], t["price_in_decimal"]) for t in stored["item_tiers"]] == [
        (1, 2_000_000, "0"), (2_000_001, None, "0.00037")]
    usage = next(i for i in billing.get_subscription(subscription_id).items if i.sku == "API-CALLS")
    assert usage.quantity == 0 and usage.usage.included_quantity == 2_000_000
    assert usage.usage.overage_unit_price == Decimal("0.00037")


def test_a_frequency_change_carries_the_tiers_to_the_new_item_price(sandbox, connect):
    billing = connect(ChargebeeBilling)
    subscription_id = _subscribe(billing)
    billing.change_subscription(subscription_id, SubscriptionChange(billing_frequency="quarterly"),
                                idempotency_key="corr-9:freq")
    [stored] = sandbox.records("chargebee", "subscription")
    assert {t["item_price_id"] for t in stored["item_tiers"]} == {"API-CALLS-EUR-Every-3-months"}
    assert next(i for i in stored["subscription_items"] if i["metered"])["quantity"] is None


def test_the_sandbox_refuses_tiers_on_a_licensed_item_price(connect):
    billing = connect(ChargebeeBilling)
    customer = billing.upsert_customer(BillingCustomer(customer_key="acct-8-DE", name="Acme"), idempotency_key="c").id
    with pytest.raises(ValidationFailed, match="not a tiered item price"):
        billing._post(f"/customers/{customer}/subscription_for_items", [
            ("subscription_items[item_price_id][0]", "PLATFORM-ENT-EUR-Yearly"),
            ("item_tiers[item_price_id][0]", "PLATFORM-ENT-EUR-Yearly"), ("item_tiers[starting_unit][0]", "1"),
            ("item_tiers[price_in_decimal][0]", "1")], "k", customer)


def test_a_closed_usage_period_is_one_chargebee_usage_even_when_reported_twice(sandbox, connect):
    from datetime import date

    # Given a subscription with a metered API-calls item price (usage terms as item tiers)
    billing = connect(ChargebeeBilling)
    subscription_id = _subscribe(billing)
    # When a period's total is reported, and reported again (a retried report)
    first = billing.metering.report(subscription_id, "api_calls", Decimal(12345), date(2026, 12, 1),
                                    "usage:chargebee:x:api_calls:2026-11-01", sku="API-CALLS")
    again = billing.metering.report(subscription_id, "api_calls", Decimal(12345), date(2026, 12, 1),
                                    "usage:chargebee:x:api_calls:2026-11-01", sku="API-CALLS")
    # Then Chargebee holds one usage on the metered item price, dated in the period's last second
    [usage] = sandbox.records("chargebee", "usage")
    assert usage["quantity"] == "12345" and usage["item_price_id"] == "API-CALLS-EUR-Yearly"
    assert usage["usage_date"] == 1796083200 - 1 and first == again and sandbox.violations == []
    assert first["currency"] == "EUR"
