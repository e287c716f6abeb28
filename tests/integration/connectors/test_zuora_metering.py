"""A closed usage period reaches Zuora as one usage record on the subscription's usage charge (CRUD
`POST /v1/object/usage`), found by a ZOQL query on its Description before another is created, so a report
repeated after Zuora's idempotency window still leaves one record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.connectors.interfaces import BillingCustomer, NewSubscription
from erphub.connectors.zuora import ZuoraBilling
from erphub.connectors.zuora_metering import usage_moment, zoql_literal
from erphub.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.integration
KEY = "usage:zuora:A-S1:api_calls:2024-07-01"
API_CALLS = UsageTerms(metric="api_calls", unit="call", included_quantity=Decimal(10_000_000),
                       overage_unit_price=Decimal("0.0004"))


def _account(billing: ZuoraBilling) -> str:
    return billing.upsert_customer(BillingCustomer(customer_key="001Z:LE-US", name="Acme Inc.", currency="USD"),
                                   idempotency_key="001Z:LE-US:customer").id


def _subscribe(billing: ZuoraBilling, account: str) -> str:
    return billing.create_subscription(NewSubscription(
        customer_id=account, currency="USD", billing_frequency="monthly", start_date=date(2024, 6, 1),
        items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(100)),
               SubscriptionItem(sku="API-CALLS", usage=API_CALLS)]), idempotency_key=f"{account}:sub").id


def test_a_period_total_is_one_usage_record_on_the_usage_charge_even_when_reported_again(sandbox, connect):
    # Given a subscription with an API-calls usage charge
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    [stored] = sandbox.records("zuora", "subscription")
    charge = next(p["ratePlanCharges"][0] for p in stored["ratePlans"] if p["productSku"] == "API-CALLS")
    # When the period's total is reported, then again by a later run (Zuora's idempotency window long gone)
    first = billing.metering.report(number, "api_calls", Decimal(12345678), date(2024, 8, 1), KEY, sku="API-CALLS")
    sandbox.vendors["zuora"].idempotency.clear()
    again = connect(ZuoraBilling).metering.report(number, "api_calls", Decimal(12345678), date(2024, 8, 1), KEY,
                                                  sku="API-CALLS")
    # Then Zuora holds one usage record, on the usage charge, dated on the period's last day
    [usage] = sandbox.records("zuora", "usage")
    assert (usage["ChargeNumber"], usage["SubscriptionNumber"], usage["AccountNumber"]) == (
        charge["number"], number, "001Z:LE-US")
    assert usage["Quantity"] == 12345678 and usage["UOM"] == "Each" and usage["Description"] == f"erphub {KEY}"
    assert usage["StartDateTime"] == "2024-07-31T12:00:00+00:00"
    assert first == again == {"customer_id": "001Z:LE-US", "currency": "USD", "reference": usage["Id"],
                              "metric": "api_calls"}
    assert sandbox.violations == []


def test_a_fractional_total_keeps_its_digits(sandbox, connect):
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    billing.metering.report(number, "api_calls", Decimal("1234.125"), date(2024, 8, 1), KEY, sku="API-CALLS")
    assert Decimal(str(sandbox.records("zuora", "usage")[0]["Quantity"])) == Decimal("1234.125")


def test_a_subscription_without_a_usage_charge_for_the_sku_is_not_found(sandbox, connect):
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    with pytest.raises(NotFound, match="no usage charge"):
        billing.metering.report(number, "seats", Decimal(1), date(2024, 8, 1), KEY, sku="PLATFORM-ENT")
    assert sandbox.records("zuora", "usage") == []


def test_query_values_are_refused_rather_than_escaped():
    assert zoql_literal("usage:zuora:A-S1:api_calls:2024-07-01") == "'usage:zuora:A-S1:api_calls:2024-07-01'"
    with pytest.raises(ValidationFailed):
        zoql_literal("x' or Id != '")


def test_the_usage_date_is_the_last_day_east_and_west_of_utc():
    from datetime import timedelta, timezone

    moment = usage_moment(date(2024, 8, 1))
    for hours in (-12, 0, 11):
        assert moment.astimezone(timezone(timedelta(hours=hours))).date() == date(2024, 7, 31)
