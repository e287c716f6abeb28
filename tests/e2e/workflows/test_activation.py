"""Customer activation on the local stack with the sandbox vendors, driven by signed Salesforce webhooks."""

from __future__ import annotations

import pytest
from deals import Deal, TwoCurrencyDeal
from flows import (
    activate,
    billing_customers,
    correlation,
    crm_account,
    erp_customers,
    sales_orders,
    seed_crm,
    send_deal,
    subscriptions,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def companies_usage(hub, deal) -> str:
    [company] = [c for c in hub.records("gainsight", "Company") if c.get("Crm_Account_Id__gc") == deal.account_id]
    return company.get("Adoption_Usage_Terms__gc") or ""


def test_a_multi_entity_deal_is_activated_everywhere_once(hub):
    # Given a closed-won annual deal for a US and a German entity, with API usage billed in arrears
    deal = Deal("Acme")
    seed_crm(hub, deal)
    # When Salesforce sends the outbound message, and sends it again (a new notification for the same deal)
    send_deal(hub, deal)
    execution = hub.execution("activation", deal.opportunity_id)
    send_deal(hub, deal)
    # Then the activation succeeded, and each system holds one record per business object
    assert execution["status"] == "SUCCEEDED"
    subs = subscriptions(hub, deal)
    assert sorted(s["metadata"]["legal_entity_id"] for s in subs) == ["LE-DE", "LE-US"]
    us = next(s for s in subs if s["metadata"]["legal_entity_id"] == "LE-US")
    seats, usage = sorted(us["items"]["data"], key=lambda i: i["price"]["recurring"]["usage_type"])
    assert seats["price"]["lookup_key"] == "PLATFORM-ENT_annual" and seats["quantity"] == 100
    # the API usage is a metered price on the api_calls meter: 10M calls included, then 0.04 cents a call
    assert usage["quantity"] is None and usage["price"]["recurring"]["usage_type"] == "metered"
    meter = next(m for m in hub.records("stripe", "meter") if m["id"] == usage["price"]["recurring"]["meter"])
    assert meter["event_name"] == "api_calls"
    assert [(t["up_to"], t["unit_amount_decimal"]) for t in usage["price"]["tiers"]] == [
        (10_000_000, "0"), (None, "0.04")]
    assert len(billing_customers(hub, deal)) == 2
    assert sorted(c["subsidiary"]["refName"] for c in erp_customers(hub, deal)) == ["DE01", "US01"]  # by internal id
    orders = sales_orders(hub, deal)
    assert len(orders) == 2
    line = orders[0]["item"]["items"][0]
    assert orders[0]["billingSchedule"] == {"refName": "Annual In Advance"}
    assert line["revRecStartDate"] == "2024-06-01" and line["revRecEndDate"] == "2025-05-31" and line["taxCode"]
    us_order = next(o for o in orders if o["subsidiary"]["refName"] == "US01")
    overage = next(i for i in us_order["item"]["items"] if i["item"]["externalId"] == "API-CALLS")
    assert (overage["quantity"], overage["rate"]) == (0, 0.0004) and "10000000 call included" in overage["description"]
    assert "api_calls: 10000000 call included" in companies_usage(hub, deal)
    companies = [c for c in hub.records("gainsight", "Company") if c.get("Crm_Account_Id__gc") == deal.account_id]
    assert len(companies) == 1 and companies[0]["Health_Score__gc"] == 70
    assert len([m for m in hub.records("gainsight", "Onboarding_Milestone__gc")
                if m.get("Plan_Id__gc") in {p["Gsid"] for p in hub.records("gainsight", "Onboarding_Plan__gc")
                                             if p.get("Company_Id__gc") == companies[0]["Gsid"]}]) == 4
    account = crm_account(hub, deal)
    assert account["Lifecycle_Status__c"] == "active" and "LE-US=cus_" in account["Stripe_Id__c"]
    status = hub.store().status(correlation(deal))
    assert (status["status"], status["detail"]["type"]) == ("completed", "activation.completed")
    # and the second message started nothing new
    hub.stack.wait_until(lambda: hub.stack.queue_depth("ActivationQueue") == 0, timeout=10)
    assert len(subscriptions(hub, deal)) == 2


def test_usage_overage_in_two_currencies_is_metered_and_booked_in_each_entitys_currency(hub):
    # Given a deal whose German entity has its own API allowance, priced in EUR
    deal = TwoCurrencyDeal("Metered")
    seed_crm(hub, deal)
    send_deal(hub, deal)
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    # Then each entity's subscription has a metered price in its currency, on the one api_calls meter
    subs = {s["metadata"]["legal_entity_id"]: s for s in subscriptions(hub, deal)}
    metered = {e: next(i["price"] for i in s["items"]["data"] if i["price"]["recurring"]["usage_type"] == "metered")
               for e, s in subs.items()}
    assert (metered["LE-DE"]["currency"], metered["LE-US"]["currency"]) == ("eur", "usd")
    assert [(t["up_to"], t["unit_amount_decimal"]) for t in metered["LE-DE"]["tiers"]] == [
        (2_000_000, "0"), (None, "0.037")]
    assert metered["LE-DE"]["recurring"]["meter"] == metered["LE-US"]["recurring"]["meter"]
    # And NetSuite books each entity's overage line at that price, in the entity's currency
    orders = {o["subsidiary"]["refName"]: o for o in sales_orders(hub, deal)}
    de_overage = next(i for i in orders["DE01"]["item"]["items"] if i["item"]["externalId"] == "API-CALLS")
    assert (de_overage["quantity"], de_overage["rate"]) == (0, 0.00037)
    assert orders["DE01"]["currency"]["refName"] == "EUR"


def test_a_deal_missing_a_tax_id_waits_for_a_fix_and_then_activates(hub):
    # Given a deal whose German entity has no tax id
    deal = Deal("NoTax")
    deal.entities[1]["tax_id"] = None
    hub.sandbox.seed("salesforce", "Opportunity", deal.fields())  # the master the fix is written to
    send_deal(hub, deal)
    # When the data-quality gate stops it
    exception = hub.exception(correlation(deal), "data_quality")
    assert "LE-DE" in exception["reason"] and subscriptions(hub, deal) == []
    # and an operator adds the tax id and resumes
    entities = exception["detail"]["event"]["data"]["account"]["legal_entities"]
    entities[1]["tax_id"] = "DE999999999"
    hub.operator().fix_deal(exception["exception_id"], {"account": {"legal_entities": entities}})
    # Then it activates with the corrected data
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2
    assert {c.get("vatRegNumber") for c in erp_customers(hub, deal)} >= {"DE999999999"}


@pytest.mark.parametrize("approved", [True, False], ids=["approve", "reject"])
def test_a_large_deal_waits_for_approval(hub, approved):
    deal = Deal("Big")
    send_deal(hub, deal, Amount="350000.0")
    exception = hub.exception(correlation(deal), "approval")
    assert "over 200000" in exception["reason"]
    hub.operator().decide(exception["exception_id"], approved, by="cfo@example.com")
    execution = hub.execution("activation", deal.opportunity_id)
    if approved:
        assert execution["status"] == "SUCCEEDED" and len(subscriptions(hub, deal)) == 2
    else:
        assert execution["status"] == "FAILED" and subscriptions(hub, deal) == []
        assert hub.store().status(correlation(deal))["reason"].startswith("ApprovalRejected")


def test_an_approval_nobody_gives_times_out(hub):
    deal = Deal("Slow")
    send_deal(hub, deal, Non_Standard_Terms__c="true")
    execution = hub.execution("activation", deal.opportunity_id, timeout=30)
    assert execution["status"] == "FAILED"
    assert "ApprovalTimedOut" in hub.states_entered(execution["executionArn"])
    assert subscriptions(hub, deal) == [] and sales_orders(hub, deal) == []


def test_a_failure_after_billing_cancels_subscriptions_and_voids_orders(hub):
    # Given customer success is down for longer than every retry
    hub.sandbox.faults.inject("gainsight", None, kind="503", times=1000)
    deal = Deal("Broken")
    send_deal(hub, deal)
    execution = hub.execution("activation", deal.opportunity_id, timeout=60)
    # Then the activation failed, compensated: no live subscription, no open ERP order
    assert execution["status"] == "FAILED"
    entered = hub.states_entered(execution["executionArn"])
    assert entered.index("CancelSubscriptions") < entered.index("VoidSalesOrder") < entered.index(
        "RecordActivationFailure")
    assert {s["status"] for s in subscriptions(hub, deal)} == {"canceled"}
    assert {o["orderStatus"]["id"] for o in sales_orders(hub, deal)} <= {"C"}
    status = hub.store().status(correlation(deal))
    assert status["status"] == "failed" and status["step"] == "success.onboard"
    failure = hub.exception(correlation(deal), "activation_failed")
    assert "undone" in failure["reason"] and "stripe:subscription" in failure["reason"]


def test_a_crm_write_back_failure_is_compensated_too(hub):
    hub.sandbox.faults.inject("salesforce", None, kind="500", times=1000)
    deal = Deal("CrmDown")
    send_deal(hub, deal)
    execution = hub.execution("activation", deal.opportunity_id, timeout=60)
    assert execution["status"] == "FAILED"
    assert {s["status"] for s in subscriptions(hub, deal)} == {"canceled"}
    assert len(sales_orders(hub, deal)) == 2 and {o["orderStatus"]["id"] for o in sales_orders(hub, deal)} == {"C"}


def test_an_erp_outage_longer_than_the_retries_waits_then_resumes_without_duplicates(hub):
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=1000)
    deal = Deal("ErpDown")
    send_deal(hub, deal)
    outage = hub.exception(correlation(deal), "erp_outage", timeout=60)
    assert subscriptions(hub, deal) and sales_orders(hub, deal) == []
    # When the ERP is back and an operator resumes
    hub.sandbox.faults.clear()
    hub.operator().resume(outage["exception_id"], {"resumed_by": "ops"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(sales_orders(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2
    assert len(subscriptions(hub, deal)) == 2


@pytest.mark.parametrize("vendor", ["stripe", "netsuite"])
def test_a_429_storm_is_retried_without_duplicates(hub, vendor):
    hub.sandbox.faults.inject(vendor, None, kind="429", times=6, retry_after=1)
    deal, _ = activate(hub, f"Storm-{vendor}")
    assert len(subscriptions(hub, deal)) == 2 and len(billing_customers(hub, deal)) == 2
    assert len(sales_orders(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2


def test_an_account_matching_two_customers_waits_for_an_operator(hub):
    # Given two customers, one known by the US tax id and one by the German tax id
    first, _ = activate(hub, "First")
    second, _ = activate(hub, "Second")
    deal = Deal("Merged")
    deal.entities[0]["tax_id"], deal.entities[1]["tax_id"] = first.entities[0]["tax_id"], second.entities[1]["tax_id"]
    # When a deal arrives for a new account carrying both
    send_deal(hub, deal)
    conflict = hub.exception(correlation(deal), "identity_conflict")
    assert "2 customers" in conflict["reason"]
    # Then nothing is guessed; the operator picks the first customer and the activation goes on
    chosen = hub.identity().customer_by_xref("salesforce", first.account_id)
    hub.operator().choose_customer(conflict["exception_id"], chosen, by="ops")
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
