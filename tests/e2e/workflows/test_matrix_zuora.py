"""Vendor matrix row 3 on the local stack: Salesforce + Zuora + Gainsight + Dynamics 365 (BillingVendor=zuora,
ErpVendor=dynamics), with a two-entity deal billed and booked in USD and EUR, each entity with usage-based overage
priced in its own currency. Each test checks the vendors' end state: one record per business object, nothing
orphaned."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deals import Deal, TwoCurrencyDeal
from flows import correlation, crm_account, seed_crm, send_deal
from test_changes import cancel, renew

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return {"BillingVendor": "zuora", "ErpVendor": "dynamics"}


def activate(hub: Any, label: str) -> TwoCurrencyDeal:
    deal = TwoCurrencyDeal(label)
    seed_crm(hub, deal)
    send_deal(hub, deal)
    execution = hub.execution("activation", deal.opportunity_id)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    return deal


def zuora_subscriptions(hub: Any, deal: Deal) -> dict[str, dict[str, Any]]:
    found = [s for s in hub.records("zuora", "subscription") if s.get("ContractId__c") == deal.opportunity_id]
    assert len(found) == len({s["LegalEntityId__c"] for s in found}), "one subscription per entity"
    return {s["LegalEntityId__c"]: s for s in found}


def charges(subscription: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["productSku"]: p["ratePlanCharges"][0] for p in subscription["ratePlans"]
            if p["lastChangeType"] != "Remove"}


def dynamics_orders(hub: Any, contract_id: str) -> dict[str, dict[str, Any]]:
    found = [o for o in hub.records("dynamics", "salesorders") if o.get("erphub_contractid") == contract_id]
    assert len(found) == len({o["erphub_legalentity"] for o in found}), "one sales order per entity"
    return {o["erphub_legalentity"]: o for o in found}


def order_lines(hub: Any, order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = order["erphub_externalid"]
    return {line["erphub_sku"]: line for line in hub.records("dynamics", "salesorderdetails")
            if str(line.get("erphub_externalid")).rsplit("-", 1)[0] == key}  # lines are keyed <order>-<n>


def test_a_two_currency_deal_with_usage_overage_is_activated_in_zuora_and_dynamics_once(hub):
    # Given a closed-won deal for a US and a German entity, each with API usage beyond an allowance
    deal = activate(hub, "Matrix3")
    send_deal(hub, deal)  # a second outbound message for the same deal
    hub.stack.wait_until(lambda: hub.stack.queue_depth("ActivationQueue") == 0, timeout=10)
    # Then Zuora holds one account and one subscription per entity, each in the entity's currency
    accounts = {a["accountNumber"]: a for a in hub.records("zuora", "account")
                if a["accountNumber"].startswith(f"{deal.account_id}:")}
    assert {n.rsplit(":", 1)[1]: a["currency"] for n, a in accounts.items()} == {"LE-US": "USD", "LE-DE": "EUR"}
    subs = zuora_subscriptions(hub, deal)
    assert set(subs) == {"LE-US", "LE-DE"} and {s["currency"] for s in subs.values()} == {"USD", "EUR"}
    # and the usage terms are the usage charges' included units and overage price, not a quantity
    us, de = charges(subs["LE-US"]), charges(subs["LE-DE"])
    assert us["PLATFORM-ENT"]["quantity"] == 100 and de["PLATFORM-ENT"]["quantity"] == 20
    assert (us["API-CALLS"]["model"], us["API-CALLS"]["includedUnits"], us["API-CALLS"]["overagePrice"]) == (
        "Overage", 10_000_000, 0.0004)
    assert (de["API-CALLS"]["currency"], de["API-CALLS"]["includedUnits"], de["API-CALLS"]["overagePrice"]) == (
        "EUR", 2_000_000, 0.00037)
    assert "quantity" not in us["API-CALLS"] and "quantity" not in de["API-CALLS"]
    # And Dynamics books one order per entity in its currency, seats at the billed price, an overage line each
    orders = dynamics_orders(hub, deal.opportunity_id)
    assert {e: o["erphub_currency"] for e, o in orders.items()} == {"US01": "USD", "DE01": "EUR"}
    us_lines, de_lines = order_lines(hub, orders["US01"]), order_lines(hub, orders["DE01"])
    assert (us_lines["PLATFORM-ENT"]["quantity"], us_lines["PLATFORM-ENT"]["priceperunit"]) == (100, 1200)
    assert (de_lines["PLATFORM-ENT"]["quantity"], de_lines["PLATFORM-ENT"]["priceperunit"]) == (20, 1100)
    assert (us_lines["API-CALLS"]["quantity"], us_lines["API-CALLS"]["priceperunit"]) == (0, 0.0004)
    assert (de_lines["API-CALLS"]["quantity"], de_lines["API-CALLS"]["priceperunit"]) == (0, 0.00037)
    customers = [a for a in hub.records("dynamics", "accounts") if str(a.get("accountnumber")).startswith(
        deal.account_id)]
    assert len(customers) == 2
    # And customer success knows each entity's allowance; the CRM account links the Zuora accounts
    [company] = [c for c in hub.records("gainsight", "Company") if c.get("Crm_Account_Id__gc") == deal.account_id]
    assert "LE-DE API-CALLS api_calls: 2000000 call included" in company["Adoption_Usage_Terms__gc"]
    assert crm_account(hub, deal)["Lifecycle_Status__c"] == "active"
    assert hub.store().status(correlation(deal))["status"] == "completed"


def test_a_renewal_moves_every_rate_plan_to_the_new_period_and_books_renewal_orders(hub):
    deal = activate(hub, "Matrix3Renew")
    renewal_id, execution = renew(hub, deal)  # renewed quarterly from 2025-06-01
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs = zuora_subscriptions(hub, deal)
    assert len(subs) == 2
    for entity, subscription in subs.items():
        plans = charges(subscription)
        assert {c["billingPeriod"] for c in plans.values()} == {"Quarter"}, entity
        assert "quantity" not in plans["API-CALLS"] and plans["API-CALLS"]["includedUnits"] > 0
    assert charges(subs["LE-US"])["PLATFORM-ENT"]["quantity"] == 100
    assert len(dynamics_orders(hub, renewal_id)) == 2 and len(dynamics_orders(hub, deal.opportunity_id)) == 2
    assert crm_account(hub, deal)["Lifecycle_Status__c"] == "renewed"


def test_a_cancellation_at_period_end_cancels_in_zuora_and_fulfils_the_orders(hub):
    deal = activate(hub, "Matrix3Cancel")
    execution = cancel(hub, deal, "at_period_end")
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs = zuora_subscriptions(hub, deal)
    assert all(s["status"] == "Active" and s["cancelledDate"] == s["termEndDate"] for s in subs.values())
    assert {o["state"] for o in dynamics_orders(hub, deal.opportunity_id).values()} == {"fulfilled"}
    assert crm_account(hub, deal)["Lifecycle_Status__c"] == "cancelled"
    assert json.dumps(sorted(subs)) == '["LE-DE", "LE-US"]'  # nothing created by the cancellation
