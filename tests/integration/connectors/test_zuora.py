"""Zuora: OAuth client credentials (refreshed once on a 401), accounts found before they are created,
subscriptions and their changes as orders, usage terms on the usage charge, business errors answered with
HTTP 200 and `success: false` turned into typed errors, Retry-After on 429, Idempotency-Key replays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.connectors.interfaces import BillingCustomer, CollectionStrategy, NewSubscription, SubscriptionChange
from erphub.connectors.zuora import ZuoraBilling, refusal
from erphub.errors import Conflict, NotFound, Permanent, RateLimited, Transient, ValidationFailed

pytestmark = pytest.mark.integration

API_CALLS = UsageTerms(metric="api_calls", unit="call", included_quantity=Decimal(10_000_000),
                       overage_unit_price=Decimal("0.0004"))


def _account(billing: ZuoraBilling, key: str = "001Z:LE-US", currency: str = "USD") -> str:
    return billing.upsert_customer(BillingCustomer(customer_key=key, name="Acme Inc.", email="ap@acme.test",
                                                   currency=currency, country="US", legal_entity_id="LE-US"),
                                   idempotency_key=f"{key}:customer").id


def _subscribe(billing: ZuoraBilling, account: str, frequency: str = "annual", currency: str = "USD",
               usage: UsageTerms = API_CALLS) -> str:
    return billing.create_subscription(NewSubscription(
        customer_id=account, currency=currency, billing_frequency=frequency, start_date=date(2024, 6, 1),
        legal_entity_id="LE-US", contract_id="006Z",
        items=[SubscriptionItem(sku="PLATFORM-ENT", quantity=Decimal(100)),
               SubscriptionItem(sku="API-CALLS", usage=usage)]), idempotency_key=f"{account}:sub").id


def test_an_account_is_looked_up_before_it_is_created(sandbox, connect):
    billing = connect(ZuoraBilling)
    first = billing.upsert_customer(BillingCustomer(customer_key="001Z:LE-US", name="Acme Inc.", currency="USD"),
                                    idempotency_key="k1")
    again = connect(ZuoraBilling).upsert_customer(BillingCustomer(customer_key="001Z:LE-US", name="Acme, Inc."),
                                                  idempotency_key="k2")
    assert first.created is True and again.created is False and again.id == first.id
    [account] = sandbox.records("zuora", "account")
    assert account["name"] == "Acme, Inc." and account["accountNumber"] == "001Z:LE-US"


def test_a_subscription_is_an_order_with_usage_terms_on_the_usage_charge(sandbox, connect):
    # Given an account and a deal with seats and API usage (10M calls included, then 0.0004 USD a call)
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    # Then Zuora holds one subscription with a per-unit seat charge and an Overage usage charge with the terms
    [stored] = sandbox.records("zuora", "subscription")
    charges = {p["productSku"]: p["ratePlanCharges"][0] for p in stored["ratePlans"]}
    assert charges["PLATFORM-ENT"]["quantity"] == 100 and charges["PLATFORM-ENT"]["billingPeriod"] == "Annual"
    usage = charges["API-CALLS"]
    assert (usage["type"], usage["model"], usage["includedUnits"], usage["overagePrice"]) == (
        "Usage", "Overage", 10_000_000, 0.0004)
    assert "quantity" not in usage
    # And read back, the subscription has the usage terms and no quantity for them
    sub = billing.get_subscription(number)
    assert sub.legal_entity_id == "LE-US" and sub.contract_id == "006Z" and sub.billing_frequency == "annual"
    assert sub.current_period_end == date(2025, 6, 1)
    api = next(i for i in sub.items if i.sku == "API-CALLS")
    assert api.quantity == 0 and api.usage.included_quantity == 10_000_000
    assert api.usage.overage_unit_price == Decimal("0.0004")


def test_changes_are_order_actions_and_a_new_frequency_moves_every_rate_plan(sandbox, connect):
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    billing.change_subscription(number, SubscriptionChange(quantities={"PLATFORM-ENT": Decimal(120)},
                                                           add_items=[SubscriptionItem(sku="SSO", quantity=5)]),
                                idempotency_key="k-amend")
    billing.change_subscription(number, SubscriptionChange(billing_frequency="quarterly"), idempotency_key="k-freq")
    sub = billing.get_subscription(number)
    assert {i.sku: i.quantity for i in sub.items} == {"PLATFORM-ENT": 120, "SSO": 5, "API-CALLS": 0}
    assert sub.billing_frequency == "quarterly"
    assert next(i for i in sub.items if i.sku == "API-CALLS").usage.included_quantity == 10_000_000
    billing.change_subscription(number, SubscriptionChange(quantities={"SSO": Decimal(0)}), idempotency_key="k-rm")
    assert "SSO" not in {i.sku for i in billing.get_subscription(number).items}


def test_cancellation_at_term_end_and_now(sandbox, connect):
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    billing.cancel_subscription(number, at_period_end=True, idempotency_key="k-c1")
    assert billing.get_subscription(number).cancel_at_period_end is True
    billing.cancel_subscription(number, at_period_end=False, idempotency_key="k-c2")
    billing.cancel_subscription(number, at_period_end=False, idempotency_key="k-c3")  # twice is harmless
    assert billing.get_subscription(number).status == "canceled"
    # a cancelled subscription takes no change: Zuora's rule restriction, a Conflict
    with pytest.raises(Conflict, match="cancelled"):
        billing.change_subscription(number, SubscriptionChange(add_items=[SubscriptionItem(sku="SSO")]),
                                    idempotency_key="k-late")


def test_a_retried_create_under_its_key_makes_one_subscription(sandbox, connect):
    billing = connect(ZuoraBilling, read_timeout_seconds=0.3, max_attempts=1)
    account = _account(billing)
    sandbox.faults.inject("zuora", "order.create", kind="timeout", seconds=1.0, after_commit=True)
    with pytest.raises(Exception):  # noqa: B017 - the lost response is a Transient
        _subscribe(billing, account)
    _subscribe(billing, account)
    assert len(sandbox.records("zuora", "subscription")) == 1


def test_business_errors_in_a_200_answer_are_typed(connect):
    billing = connect(ZuoraBilling)
    with pytest.raises(NotFound, match="Cannot find entity"):
        billing.get_subscription("A-S99999999")
    # usage priced in EUR on a USD account is refused before anything is sent
    with pytest.raises(ValidationFailed, match="priced in EUR"):
        _subscribe(billing, _account(billing), usage=API_CALLS.model_copy(update={"currency": "EUR"}))


def test_a_rate_limit_keeps_its_retry_after(sandbox, connect):
    billing = connect(ZuoraBilling, max_retry_wait_seconds=0.5)
    sandbox.faults.inject("zuora", "subscription.get", kind="429", times=3, retry_after=30)
    with pytest.raises(RateLimited) as raised:
        billing.get_subscription("A-S00000001")
    assert raised.value.retry_after == 30


def test_a_stale_token_is_refreshed_once(sandbox, connect):
    billing = connect(ZuoraBilling)
    account = _account(billing)
    sandbox.vendors["zuora"].issuer.revoke_all()
    billing.set_collection(account, CollectionStrategy(method="send_invoice", days_until_due=45),
                           idempotency_key="k-col")
    [stored] = sandbox.records("zuora", "account")
    assert stored["autoPay"] is False and stored["paymentTerm"] == "Net 45"


def test_usage_is_recorded_on_the_usage_charge(sandbox, connect):
    billing = connect(ZuoraBilling)
    number = _subscribe(billing, _account(billing))
    ref = billing.record_usage(number, "API-CALLS", Decimal(1500), datetime(2024, 7, 1, tzinfo=UTC),
                               idempotency_key="usage-1")
    [usage] = sandbox.records("zuora", "usage")
    assert ref.id == usage["Id"] and usage["Quantity"] == 1500 and usage["UOM"] == "Each"
    with pytest.raises(ValidationFailed, match="no usage charge"):
        billing.record_usage(number, "PLATFORM-ENT", Decimal(1), datetime(2024, 7, 1, tzinfo=UTC),
                             idempotency_key="usage-2")
    assert billing.list_invoices(_account(billing)) == []  # orders ran no bill run


@pytest.mark.parametrize(("code", "error"), [(53100040, NotFound), (53100030, Conflict), (53100020, ValidationFailed),
                                             (53100070, RateLimited), (53100050, Transient), (90000011, Permanent)])
def test_a_reason_codes_category_decides_the_typed_error(code, error):
    raised = refusal({"success": False, "reasons": [{"code": code, "message": "m"}]}, "rec")
    assert type(raised) is error and raised.system == "zuora"


def test_usage_measured_monthly_sits_on_an_annual_subscription(sandbox, connect):
    billing = connect(ZuoraBilling)
    _subscribe(billing, _account(billing), usage=API_CALLS.model_copy(update={"period": "monthly"}))
    [stored] = sandbox.records("zuora", "subscription")
    assert {p["productSku"]: p["ratePlanCharges"][0]["billingPeriod"] for p in stored["ratePlans"]} == {
        "PLATFORM-ENT": "Annual", "API-CALLS": "Month"}
