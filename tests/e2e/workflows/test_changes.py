"""Amendment, renewal and cancellation of an activated contract, and the renewal-risk signal, on the local stack."""

from __future__ import annotations

import json

import pytest
from deals import post
from flows import activate, correlation, crm_account, sales_orders, send_deal, subscriptions
from matrix_rows import SEATS_UP

pytestmark = [pytest.mark.e2e, pytest.mark.slow]



def amend(hub, deal, version, items, **fields):
    send_deal(hub, deal, Id=f"{deal.opportunity_id}A{version}", Contract_Key__c=deal.opportunity_id,
              Contract_Version__c=f"{version}.0", Type="Amendment", Line_Items__c=items,
              Previous_Opportunity__c=deal.opportunity_id, Term_Start__c="2024-09-01",
              LastModifiedDate=f"2024-09-0{version}T10:00:00.000Z", **fields)
    return hub.execution("amendment", deal.opportunity_id, version, timeout=45)


def quantities(subscription):
    return {i["price"]["lookup_key"]: i["quantity"] for i in subscription["items"]["data"]}


def by_entity(records, key):
    return {key(r): r for r in records}


def test_seats_up_a_module_added_and_frequency_changed_mid_term(hub):
    deal, _ = activate(hub, "Amend")
    # When the amendment closes: +50 seats in the US, analytics for the German entity, billed quarterly
    execution = amend(hub, deal, 2, SEATS_UP, Billing_Frequency__c="Quarterly")
    # Then billing, ERP and customer success follow, and billing reconciles against the ERP
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs = by_entity(subscriptions(hub, deal), lambda s: s["metadata"]["legal_entity_id"])
    assert quantities(subs["LE-US"])["PLATFORM-ENT_quarterly"] == 150
    assert quantities(subs["LE-DE"]) == {"PLATFORM-ENT_quarterly": 20, "ANALYTICS_quarterly": 20}
    orders = by_entity(sales_orders(hub, deal), lambda o: o["entity"]["externalId"].rsplit(":", 1)[1])
    us_lines = {line["item"]["externalId"]: line["quantity"] for line in orders["LE-US"]["item"]["items"]}
    assert us_lines["PLATFORM-ENT"] == 150 and orders["LE-US"]["billingSchedule"]["refName"].startswith("Quarterly")
    assert len(sales_orders(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 2
    entered = hub.states_entered(execution["executionArn"])
    assert "Reconcile" in entered and "RaiseReconciliationException" not in entered
    # and a stale amendment (version 1 again) is recorded, not applied
    stale = amend(hub, deal, 1, SEATS_UP)
    assert stale["status"] == "SUCCEEDED" and "RecordStaleAmendment" in hub.states_entered(stale["executionArn"])
    assert quantities(by_entity(subscriptions(hub, deal), lambda s: s["metadata"]["legal_entity_id"])["LE-US"])[
        "PLATFORM-ENT_quarterly"] == 150
    # the stale run is refused on its own record; the contract still reads amended by its live amendment (v2)
    store = hub.store()
    refused = store.run_status(correlation(deal), "amendment", "1")
    assert refused["status"] == "refused" and "stale amendment" in refused["reason"]
    contract = store.status(correlation(deal))
    assert (contract["state"], contract["workflow"], contract["version"], contract["status"]) == (
        "amended", "amendment", "2", "completed")
    assert store.run_status(correlation(deal), "activation", "1")["status"] == "completed"


def test_billing_that_drifted_from_the_erp_raises_a_reconciliation_exception(hub):
    deal, _ = activate(hub, "Drift")
    # Given someone added an item to the US subscription in billing by hand
    us = next(s for s in subscriptions(hub, deal) if s["metadata"]["legal_entity_id"] == "LE-US")
    stripe = hub.sandbox.vendors["stripe"]
    with stripe.lock:
        record = stripe.table("subscription")[us["id"]]
        extra = json.loads(json.dumps(record["items"]["data"][0]))
        price = {**extra["price"], "lookup_key": "SSO_annual", "id": "price_sso"}
        extra.update(id="si_manual", quantity=3, price=price)
        record["items"]["data"].append(extra)
    execution = amend(hub, deal, 2, SEATS_UP[:1])
    assert execution["status"] == "FAILED"
    mismatch = hub.exception(correlation(deal), "reconciliation_mismatch")
    assert "SSO quantity billing 3 vs ERP 0" in mismatch["reason"]


def test_an_amendment_customer_success_cannot_take_is_reverted_in_billing(hub):
    deal, _ = activate(hub, "Revert")
    hub.sandbox.faults.inject("gainsight", None, kind="503", times=1000)
    execution = amend(hub, deal, 2, SEATS_UP[:1])
    assert execution["status"] == "FAILED"
    assert "RevertSubscriptionChange" in hub.states_entered(execution["executionArn"])
    us = next(s for s in subscriptions(hub, deal) if s["metadata"]["legal_entity_id"] == "LE-US")
    assert quantities(us)["PLATFORM-ENT_annual"] == 100


def renew(hub, deal, suffix="R", **fields):
    renewal_id = f"{deal.opportunity_id}{suffix}"
    send_deal(hub, deal, Id=renewal_id, Type="Renewal", Previous_Opportunity__c=deal.opportunity_id,
              Term_Start__c="2025-06-01", Term_End__c="2026-05-31", Billing_Frequency__c="Quarterly",
              CloseDate="2025-05-15", LastModifiedDate="2025-05-15T10:00:00.000Z", **fields)
    return renewal_id, hub.execution("renewal", renewal_id, 1, timeout=45)


def test_a_renewal_aligned_with_billing_renews_everywhere(hub):
    deal, _ = activate(hub, "Renew")
    renewal_id, execution = renew(hub, deal)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    renewal_orders = [o for o in hub.records("netsuite", "salesOrder") if o.get("otherRefNum") == renewal_id]
    assert len(renewal_orders) == 2 and len(sales_orders(hub, deal)) == 2
    assert len(subscriptions(hub, deal)) == 2
    assert crm_account(hub, deal)["Lifecycle_Status__c"] == "renewed"


def test_a_renewal_lacking_billing_alignment_waits_for_an_operator(hub):
    deal, _ = activate(hub, "Misaligned")
    from deals import annual_deal_items

    items = [*annual_deal_items(), {"sku": "SSO", "name": "SSO", "quantity": 1, "unit_price": "5000",
                                    "legal_entity_id": "LE-US"}]
    renewal_id = f"{deal.opportunity_id}R"
    send_deal(hub, deal, Id=renewal_id, Type="Renewal", Previous_Opportunity__c=deal.opportunity_id,
              Term_Start__c="2025-06-01", Term_End__c="2026-05-31", Line_Items__c=items,
              LastModifiedDate="2025-05-15T10:00:00.000Z")
    waiting = hub.exception(f"contract:salesforce:{renewal_id}", "billing_alignment")
    assert "renewal lacking billing alignment" in waiting["reason"] and "SSO is renewed but not billed" in waiting[
        "reason"]
    hub.operator().resume(waiting["exception_id"], {"aligned": True, "accepted_by": "revops"})
    assert hub.execution("renewal", renewal_id, 1)["status"] == "SUCCEEDED"
    us = next(s for s in subscriptions(hub, deal) if s["metadata"]["legal_entity_id"] == "LE-US")
    assert "SSO_annual" in quantities(us)


def cancel(hub, deal, effective):
    status, _ = post(hub.gateway, "gainsight", deal.gainsight(
        "cancellation_requested", contractId=deal.opportunity_id, effective=effective,
        reason="Consolidating vendors", requestedBy="cfo@customer.example"))
    assert status < 300
    return hub.latest("cancellation", f"1P{deal.n}", timeout=45)


def test_a_cancellation_at_period_end(hub):
    deal, _ = activate(hub, "Cancel")
    execution = cancel(hub, deal, "at_period_end")
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    assert all(s["cancel_at_period_end"] and s["status"] == "active" for s in subscriptions(hub, deal))
    assert {o["orderStatus"]["id"] for o in sales_orders(hub, deal)} == {"H"}
    assert crm_account(hub, deal)["Lifecycle_Status__c"] == "cancelled"
    assert "IssueCreditMemo" not in hub.states_entered(execution["executionArn"])


def test_a_cancellation_now_credits_the_unused_term(hub):
    deal, _ = activate(hub, "CancelNow", Term_Start__c="2026-06-01", Term_End__c="2027-05-31")
    execution = cancel(hub, deal, "immediately")
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    assert {s["status"] for s in subscriptions(hub, deal)} == {"canceled"}
    memos = [m for m in hub.records("netsuite", "creditMemo") if m["entity"]["externalId"].startswith(deal.account_id)]
    assert len(memos) == 2 and all(line["rate"] > 0 for m in memos for line in m["item"]["items"])


def test_renewal_risk_reaches_crm_billing_and_erp(hub):
    deal, _ = activate(hub, "Risky")
    hub.sandbox.seed("salesforce", "Account", {**crm_account(hub, deal), "OwnerId": "005OWNER"})
    status, _ = post(hub.gateway, "gainsight", deal.gainsight(
        "renewal_risk_changed", riskLevel="High", healthScore=38, previousHealthScore=71,
        reason="Weekly active users down 38% over 30 days", renewalDate="2025-05-31"))
    assert status < 300
    hub.stack.wait_until(lambda: crm_account(hub, deal).get("Renewal_Risk__c") == "high", timeout=20)
    tasks = hub.stack.wait_until(lambda: [t for t in hub.records("salesforce", "Task")
                                          if t.get("WhatId") == deal.account_id], timeout=20)
    assert len(tasks) == 1 and tasks[0]["Priority"] == "High"
    hub.stack.wait_until(lambda: {s.get("collection_method") for s in subscriptions(hub, deal)} == {"send_invoice"},
                         timeout=20)
    forecasts = hub.stack.wait_until(lambda: [f for f in hub.records("netsuite", "customrecord_erphub_forecast")
                                              if f["externalId"].startswith(deal.account_id)], timeout=20)
    assert {f["custrecord_erphub_probability"] for f in forecasts} == {0.3}


def test_a_renewal_whose_success_update_fails_voids_its_renewal_orders(hub):
    deal, _ = activate(hub, "RenewFail")
    hub.sandbox.faults.inject("gainsight", None, kind="503", times=1000)
    renewal_id, execution = renew(hub, deal)
    assert execution["status"] == "FAILED"
    assert "VoidRenewalOrder" in hub.states_entered(execution["executionArn"])
    renewal_orders = [o for o in hub.records("netsuite", "salesOrder") if o.get("otherRefNum") == renewal_id]
    assert {o["orderStatus"]["id"] for o in renewal_orders} <= {"C"}
    assert {o.get("orderStatus", {}).get("id") for o in sales_orders(hub, deal)} == {None}  # the originals stand
    assert hub.exception(f"contract:salesforce:{renewal_id}", "renewal_failed")


def test_a_cancellation_during_an_erp_outage_waits_then_closes_the_orders_once(hub):
    deal, _ = activate(hub, "CancelOutage")
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=1000)
    status, _ = post(hub.gateway, "gainsight", deal.gainsight(
        "cancellation_requested", contractId=deal.opportunity_id, effective="at_period_end"))
    assert status < 300
    outage = hub.exception(f"account:salesforce:{deal.account_id}", "erp_outage", timeout=60)
    hub.sandbox.faults.clear()
    hub.operator().resume(outage["exception_id"], {"resumed_by": "ops"})
    execution = hub.latest("cancellation", f"1P{deal.n}", timeout=45)
    assert execution["status"] == "SUCCEEDED"
    assert {o["orderStatus"]["id"] for o in sales_orders(hub, deal)} == {"H"} and len(sales_orders(hub, deal)) == 2
