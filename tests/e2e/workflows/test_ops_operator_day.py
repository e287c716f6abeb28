"""The operator's day over the operator API, on the local stack: find the exception, inspect it, act, see it
done — for every kind a workflow waits on, and retry after compensation. Driven over HTTP through the gateway
with a dev user's Cognito ID token (as `erphub ops` does); checked in the vendor sandbox (one live record per
business object, nothing orphaned) and in the audit trail."""

from __future__ import annotations

import pytest
from deals import Deal
from flows import (
    activate,
    billing_customers,
    correlation,
    erp_customers,
    sales_orders,
    seed_crm,
    send_deal,
    send_unaligned_renewal,
    subscriptions,
)

from erphub_cli.client import OpsClient, OpsError, sign_in
from local.cognito_authorizer import dev_users
from local.template import REGION

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
OPERATOR = dev_users()["operator"]["email"]


@pytest.fixture(scope="module")
def ops(stack) -> OpsClient:
    user = dev_users()["operator"]
    tokens = sign_in(stack.physical("OpsUserPoolClient"), user["email"], user["password"], region=REGION,
                     endpoint_url=stack.aws.url)
    return OpsClient(stack.endpoints["gateway"] + "/ops/v1", tokens["IdToken"])


def find(hub, ops: OpsClient, deal: Deal, kind: str, timeout: float = 30) -> dict:
    """The operator looks the deal up in the inbox by its opportunity id, filtered by kind."""
    def found():
        return next(iter(ops.get("/exceptions", kind=kind, status="open", business_id=deal.opportunity_id)), None)

    return hub.stack.wait_until(found, timeout=timeout, interval=0.2)


def live_subscriptions(hub, deal: Deal) -> list[dict]:
    return [s for s in subscriptions(hub, deal) if s["status"] != "canceled"]


def open_orders(hub, deal: Deal) -> list[dict]:
    """NetSuite derives an order's status from its lines; the sandbox sets it once an order is voided or closed."""
    return [o for o in sales_orders(hub, deal) if (o.get("orderStatus") or {}).get("id") not in ("C", "H")]


def assert_audited(ops: OpsClient, exception_id: str, action: str, note: str = "") -> dict:
    detail = ops.get(f"/exceptions/{exception_id}")
    assert detail["status"] == "resolved" and detail["resolved_by"] == OPERATOR
    [entry] = [e for e in detail["audit"] if e["action"] == action]
    assert entry["actor"] == OPERATOR and entry["before"]["status"] == "open"
    assert entry["after"]["status"] == "resolved" and entry.get("note", "") == note
    run = ops.get(f"/runs/{detail['correlation_id']}")
    assert any(e["audit_id"] == entry["audit_id"] for e in run["audit"])  # shown with the run it touched
    return detail


def test_approve_continues_the_activation_once_and_keeps_the_note(hub, ops):
    # Given a deal over the approval threshold waits for an approver
    deal = Deal("OpsBig")
    send_deal(hub, deal, Amount="350000.0")
    summary = find(hub, ops, deal, "approval")
    assert summary["owner"] == "deal-desk" and summary["actions"] == ["approve", "reject", "abandon"]
    detail = ops.get(f"/exceptions/{summary['exception_id']}")
    assert "over 200000" in detail["reason"] and detail["payload"]["data"]["contract_id"]
    # When the operator approves it, and the approval is sent a second time (a double click)
    done = ops.post(f"/exceptions/{summary['exception_id']}/approve", {"note": "CFO ok in #deals"})
    with pytest.raises(OpsError) as again:
        ops.post(f"/exceptions/{summary['exception_id']}/approve", {"note": "again"})
    # Then the activation completes once: one subscription and one order per entity
    assert done["status"] == "resolved" and again.value.status == 409
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
    assert assert_audited(ops, summary["exception_id"], "approve", "CFO ok in #deals")["note"] == "CFO ok in #deals"


def test_acknowledging_an_approval_keeps_it_open_and_is_audited(hub, ops):
    deal = Deal("OpsAck")
    send_deal(hub, deal, Amount="350000.0")
    summary = find(hub, ops, deal, "approval")
    acknowledged = ops.post(f"/exceptions/{summary['exception_id']}/acknowledge", {"note": "CFO reviewing"})
    assert acknowledged["status"] == "open"
    detail = ops.get(f"/exceptions/{summary['exception_id']}")
    assert detail["status"] == "open" and [a["action"] for a in detail["audit"]] == ["acknowledge"]
    ops.post(f"/exceptions/{summary['exception_id']}/approve", {"note": "ok"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2


def test_reject_fails_the_activation_with_the_note_kept(hub, ops):
    deal = Deal("OpsNo")
    send_deal(hub, deal, Amount="350000.0")
    summary = find(hub, ops, deal, "approval")
    ops.post(f"/exceptions/{summary['exception_id']}/reject", {"note": "discount too deep"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "FAILED"
    assert subscriptions(hub, deal) == [] and sales_orders(hub, deal) == []
    assert_audited(ops, summary["exception_id"], "reject", "discount too deep")


def test_a_data_fix_goes_to_its_master_resumes_the_run_and_is_recorded_as_a_diff(hub, ops):
    # Given a deal whose German entity has no tax id
    deal = Deal("OpsTax")
    deal.entities[1]["tax_id"] = None
    hub.sandbox.seed("salesforce", "Opportunity", deal.fields())  # the master the fix is written to
    send_deal(hub, deal)
    summary = find(hub, ops, deal, "data_quality")
    assert summary["owner"] == "revops" and "LE-DE" in summary["reason"]
    # When the operator sets it
    entities = ops.get(f"/exceptions/{summary['exception_id']}")["payload"]["data"]["account"]["legal_entities"]
    entities[1]["tax_id"] = "DE999999999"
    done = ops.post(f"/exceptions/{summary['exception_id']}/fix",
                    {"changes": {"account": {"legal_entities": entities}}, "note": "from the signed order form"})
    # Then the diff names the field, both values, the CRM as its master and Salesforce, where it was written (see
    # test_ops_data_fix_masters.py); the ERP gets the tax id once
    [change] = done["outcome"]["diff"]
    assert change == {"field": "account.legal_entities[1].tax_id", "before": None, "after": "DE999999999",
                      "master": "crm", "written_to": "salesforce"}
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert {c.get("vatRegNumber") for c in erp_customers(hub, deal)} >= {"DE999999999"}
    assert len(erp_customers(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 2
    assert_audited(ops, summary["exception_id"], "fix", "from the signed order form")


def test_choosing_the_customer_closes_the_conflict_and_activates(hub, ops):
    # Given a new account carrying the tax ids of two known customers
    first, second = Deal("OpsFirst"), Deal("OpsSecond")
    for known in (first, second):
        seed_crm(hub, known)
        send_deal(hub, known)
        assert hub.execution("activation", known.opportunity_id)["status"] == "SUCCEEDED"
    deal = Deal("OpsMerged")
    deal.entities[0]["tax_id"], deal.entities[1]["tax_id"] = first.entities[0]["tax_id"], second.entities[1]["tax_id"]
    send_deal(hub, deal)
    summary = find(hub, ops, deal, "identity_conflict")
    assert summary["owner"] == "master-data"
    chosen = hub.identity().customer_by_xref("salesforce", first.account_id)
    # When the operator picks a customer who is not a candidate, then the right one
    with pytest.raises(OpsError) as wrong:
        ops.post(f"/exceptions/{summary['exception_id']}/choose", {"customer_id": "cust-nobody"})
    done = ops.post(f"/exceptions/{summary['exception_id']}/choose", {"customer_id": chosen})
    # Then the conflict record is closed with the choice and the activation goes on
    assert wrong.value.status == 422 and done["status"] == "resolved"
    conflict = hub.identity().conflict(done["outcome"]["conflict_id"])
    assert conflict["status"] == "resolved" and conflict["chosen"] == chosen
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert ops.get(f"/exceptions/{summary['exception_id']}")["actions"] == []
    assert_audited(ops, summary["exception_id"], "choose")


def test_resume_after_an_erp_outage_books_once(hub, ops):
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=1000)
    deal = Deal("OpsErpDown")
    send_deal(hub, deal)
    summary = find(hub, ops, deal, "erp_outage", timeout=60)
    assert summary["owner"] == "finance-systems" and sales_orders(hub, deal) == []
    hub.sandbox.faults.clear()
    ops.post(f"/exceptions/{summary['exception_id']}/resume", {"note": "NetSuite back at 10:02"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(sales_orders(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2
    assert len(subscriptions(hub, deal)) == 2
    assert_audited(ops, summary["exception_id"], "resume", "NetSuite back at 10:02")


def test_resume_after_aligning_billing_renews_once(hub, ops):
    # Given an activated customer whose renewal adds a product billing does not have yet
    deal, _ = activate(hub, "OpsRenew")
    renewal_id = send_unaligned_renewal(hub, deal)
    summary = hub.stack.wait_until(lambda: next(iter(ops.get("/exceptions", kind="billing_alignment", status="open",
                                                             business_id=renewal_id)), None), timeout=30, interval=0.2)
    assert summary["owner"] == "billing-ops" and "SSO is renewed but not billed" in summary["reason"]
    # When the operator resumes it (billing aligned by RevOps)
    ops.post(f"/exceptions/{summary['exception_id']}/resume", {"note": "SSO price added in Stripe"})
    # Then the renewal completes once: one renewal order per entity, still one subscription per entity
    assert hub.execution("renewal", renewal_id, 1)["status"] == "SUCCEEDED"
    assert len([o for o in hub.records("netsuite", "salesOrder") if o.get("otherRefNum") == renewal_id]) == 2
    assert len(subscriptions(hub, deal)) == 2
    assert_audited(ops, summary["exception_id"], "resume", "SSO price added in Stripe")


def test_retry_after_compensation_recreates_what_was_undone_as_a_new_run(hub, ops):
    # Given an activation that failed after billing and was compensated
    hub.sandbox.faults.inject("gainsight", None, kind="503", times=1000)
    deal = Deal("OpsRetry")
    send_deal(hub, deal)
    assert hub.execution("activation", deal.opportunity_id, timeout=60)["status"] == "FAILED"
    assert {s["status"] for s in subscriptions(hub, deal)} == {"canceled"}
    summary = find(hub, ops, deal, "activation_failed")
    assert summary["owner"] == "integration-ops" and summary["actions"] == ["retry", "abandon"]
    # When customer success is back and the operator retries
    hub.sandbox.faults.clear()
    done = ops.post(f"/exceptions/{summary['exception_id']}/retry", {"note": "Gainsight fixed"})
    run_id = done["outcome"]["correlation_id"]
    # Then a new run completes and really recreates the subscriptions and orders compensation undid
    assert run_id == f"{correlation(deal)}:retry1"
    assert hub.execution("activation", deal.opportunity_id, version="1-retry1", timeout=60)["status"] == "SUCCEEDED"
    assert len(live_subscriptions(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 4
    assert len(open_orders(hub, deal)) == 2
    assert len(billing_customers(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2
    # and each run keeps its own status: the first stays failed, the retry is completed, the contract is active
    view = ops.get(f"/runs/{correlation(deal)}")
    assert (view["state"], view["status"]) == ("active", "completed")
    assert sorted((r["correlation_id"], r["status"]) for r in view["runs"]) == [
        (correlation(deal), "failed"), (run_id, "completed")]
    assert ops.get(f"/runs/{run_id}")["runs"] == view["runs"]
    assert_audited(ops, summary["exception_id"], "retry", "Gainsight fixed")


def test_abandon_compensates_a_waiting_run_without_opening_another_exception(hub, ops):
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=1000)
    deal = Deal("OpsGiveUp")
    send_deal(hub, deal)
    summary = find(hub, ops, deal, "erp_outage", timeout=60)
    hub.sandbox.faults.clear()
    ops.post(f"/exceptions/{summary['exception_id']}/abandon", {"reason": "customer withdrew"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "FAILED"
    assert {s["status"] for s in subscriptions(hub, deal)} == {"canceled"}
    assert ops.get("/exceptions", status="open", business_id=deal.opportunity_id) == []
    assert_audited(ops, summary["exception_id"], "abandon", "customer withdrew")


def test_reassigning_and_commenting_are_audited(hub, ops):
    deal = Deal("OpsAssign")
    send_deal(hub, deal, Amount="350000.0")
    summary = find(hub, ops, deal, "approval")
    ops.post(f"/exceptions/{summary['exception_id']}/assign", {"owner": "emea-deal-desk", "note": "EMEA deal"})
    detail = ops.post(f"/exceptions/{summary['exception_id']}/comments", {"text": "waiting for the CFO"})
    assert detail["owner"] == "emea-deal-desk" and detail["comments"][0]["text"] == "waiting for the CFO"
    assert [e["action"] for e in detail["audit"]] == ["assign", "comment"]
    assert detail["audit"][0]["before"]["owner"] == "deal-desk"
    assert detail["audit"][0]["after"]["owner"] == "emea-deal-desk"
    assert [e["exception_id"] for e in ops.get("/exceptions", owner="emea-deal-desk")] == [summary["exception_id"]]
    ops.post(f"/exceptions/{summary['exception_id']}/abandon", {"reason": "test over"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "FAILED"


def test_operators_are_notified_of_an_opened_exception_and_of_a_failed_run(hub, ops):
    # Given a deal waiting for approval and a run that fails (the approver rejects it)
    deal = Deal("OpsNotify")
    send_deal(hub, deal, Amount="350000.0")
    summary = find(hub, ops, deal, "approval")
    ops.post(f"/exceptions/{summary['exception_id']}/reject", {"note": "no"})
    assert hub.execution("activation", deal.opportunity_id)["status"] == "FAILED"

    # Then the notifications (also on the bus and the operators' topic) name the exceptions, owners and deal
    def sent() -> dict | None:
        found = {n["type"]: n for n in ops.get("/notifications")
                 if n["business_ids"].get("contract") == deal.opportunity_id}
        return found if {"hub.exception.opened", "hub.workflow.failed"} <= found.keys() else None

    found = hub.stack.wait_until(sent, timeout=20, interval=0.3)
    opened = found["hub.exception.opened"]
    assert (opened["exception_id"], opened["owner"]) == (summary["exception_id"], "deal-desk")
    assert found["hub.workflow.failed"]["owner"] == "integration-ops"


def test_an_approval_nobody_gives_is_escalated_and_expired_not_left_open(hub, ops):
    # Given a deal waiting for approval (the stack's approval timeout is 4 s) that nobody acts on
    deal = Deal("OpsSilent")
    send_deal(hub, deal, Non_Standard_Terms__c="true")
    summary = find(hub, ops, deal, "approval")
    assert hub.execution("activation", deal.opportunity_id, timeout=30)["status"] == "FAILED"
    # Then the approval is no longer actionable, its owner was told it went overdue, and the failure is open
    detail = ops.get(f"/exceptions/{summary['exception_id']}")
    assert detail["status"] == "resolved" and detail["resolution"].startswith("expired") and detail["actions"] == []
    assert [e["kind"] for e in ops.get("/exceptions", status="open", business_id=deal.opportunity_id)] == [
        "activation_failed"]

    def overdue() -> dict | None:
        return next((n for n in ops.get("/notifications") if n["type"] == "hub.exception.overdue"
                     and n["exception_id"] == summary["exception_id"]), None)

    assert hub.stack.wait_until(overdue, timeout=20, interval=0.3)["owner"] == "deal-desk"


def test_the_ops_functions_called_only_what_their_template_policies_allow(hub, ops):
    """Last in the module: every AWS call the operator API and the notifier made above, against their IAM roles."""
    from tools import iam_audit

    findings = [f for f in iam_audit.audit(hub.stack) if f.function in ("OpsApiFunction", "OpsNotifierFunction")]
    assert findings == []
    called = {c for f, calls in hub.stack.aws_calls.items() if f == "OpsApiFunction" for c in calls}
    assert {c.operation for c in called} >= {"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat",
                                             "StartExecution", "UpdateItem"}
    notified = {c.operation for f, calls in hub.stack.aws_calls.items() if f == "OpsNotifierFunction" for c in calls}
    assert notified >= {"PutEvents", "Publish", "PutItem"}
