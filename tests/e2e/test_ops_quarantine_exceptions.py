"""Quarantined webhooks are owned exceptions with an SLA (issue 9), on the local stack of the real template over
the operator API: a verified but unmappable Salesforce deal opens a `quarantine` exception (off the ack path:
the publisher, from the inbox stream), listed in the inbox beside the others with its owner and SLA, announced to
operators, counted by the open-exceptions KPI, escalated when past its SLA; replaying the webhook resolves it
exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.e2e import test_ops_recovery_over_http as recovery
from tests.e2e.test_recovery import activation, corrected_contract, end_state, executions_of, send_deal
from tests.e2e.workflows.deals import Deal

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
stack, api, cli = recovery.stack, recovery.api, recovery.cli  # the module's fixtures, registered by name
OPERATOR = recovery.OPERATOR


def quarantined(stack, api, label: str) -> tuple[str, dict]:
    """A closed-won deal Salesforce sent with broken legal entities, and the exception its quarantine opened."""
    key = send_deal(stack, Deal(label), Legal_Entities__c="[{broken")
    found = stack.wait_until(lambda: api("GET", "/exceptions", kind="quarantine", business_id=key).json(),
                             timeout=20, interval=0.2)
    return key, found[0]


def notified(stack, api, kind: str, exception_id: str) -> dict:
    def sent() -> dict | None:
        return next((n for n in api("GET", "/notifications").json()
                     if n["type"] == kind and n["exception_id"] == exception_id), None)

    return stack.wait_until(sent, timeout=20, interval=0.3)


def open_quarantines(stack, api) -> int:
    def counted() -> dict:
        return api("GET", "/kpis").json()["business"]["manual_intervention"]["open_by_kind"]

    return int(counted().get("quarantine", 0))


def test_a_quarantined_webhook_is_an_owned_exception_that_its_replay_resolves_once(stack, api, cli):
    # Given a webhook quarantined on receipt
    deal = Deal("QuarantineOwned")
    key = send_deal(stack, deal, Legal_Entities__c="[{broken")
    source, _, event_id = key.partition("#")
    [summary] = stack.wait_until(lambda: api("GET", "/exceptions", kind="quarantine", business_id=key).json(),
                                 timeout=20, interval=0.2)
    # Then it is an exception in the inbox beside the others: owned, with an SLA, the reason, the webhook's key
    exception_id = summary["exception_id"]
    assert (summary["owner"], summary["sla_seconds"], summary["actions"]) == ("integration-ops", 14400,
                                                                           ["replay", "abandon"])
    assert "Legal_Entities__c" in summary["reason"] and summary["business_ids"]["webhook"] == key
    assert notified(stack, api, "hub.exception.opened", exception_id)["owner"] == "integration-ops"
    code, out, _ = cli("exceptions", "--kind", "quarantine")
    assert code == 0 and exception_id in out
    assert stack.wait_until(lambda: open_quarantines(stack, api) or None, timeout=20, interval=0.3) >= 1
    # A replay from the inbox that cannot map the body yet changes nothing: the exception stays open
    still = api("POST", f"/exceptions/{exception_id}/replay", body={"note": "mapping not fixed yet"})
    assert still.status_code == 422 and "still unmappable" in still.json()["message"]
    assert api("GET", f"/exceptions/{exception_id}").json()["status"] == "open"
    # When the operator replays the corrected deal from the quarantine page, twice
    corrected = {"event": corrected_contract(deal).model_dump(mode="json"), "note": "entities re-keyed"}
    first = api("POST", f"/quarantine/{source}/{event_id}/replay", body=corrected)
    again = api("POST", f"/quarantine/{source}/{event_id}/replay", body=corrected)
    assert first.status_code == 200, first.text
    assert again.status_code == 409
    # Then the exception is resolved once, by whom and how, in its audit trail; acting on it again is refused
    detail = api("GET", f"/exceptions/{exception_id}").json()
    assert detail["status"] == "resolved" and detail["actions"] == []
    assert detail["resolution"] == f"replayed (corrected) by {OPERATOR}" and detail["resolved_by"] == OPERATOR
    [entry] = [a for a in detail["audit"] if a["action"] == "replay"]
    assert entry["actor"] == OPERATOR and entry["note"] == "entities re-keyed"
    assert (entry["before"]["status"], entry["after"]["status"]) == ("open", "closed")
    assert api("POST", f"/exceptions/{exception_id}/replay", body={}).status_code == 409
    assert activation(stack, deal)["status"] == "SUCCEEDED" and len(executions_of(stack, deal)) == 1
    assert end_state(stack, deal) == {"subscriptions": 2, "sales_orders": 2, "erp_customers": 2}
    assert api("GET", "/exceptions", kind="quarantine", status="open", business_id=key).json() == []


def test_a_quarantine_nobody_repairs_goes_overdue_and_its_owner_is_told(stack, api):
    # Given a quarantine exception opened five hours ago (its SLA is four)
    _, summary = quarantined(stack, api, "QuarantineLate")
    opened = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    stack.client("dynamodb").update_item(
        TableName=stack.physical("WorkflowTable"), Key={"pk": {"S": f"EXC#{summary['exception_id']}"},
                                                        "sk": {"S": "EXC"}},
        UpdateExpression="SET opened_at = :t", ExpressionAttributeValues={":t": {"S": opened}})
    # When the SLA sweep runs
    stack.fire_schedule("OpsNotifierFunction.Events.SlaSweep")
    # Then it is overdue in the inbox and its owner was told
    assert notified(stack, api, "hub.exception.overdue", summary["exception_id"])["owner"] == "integration-ops"
    assert api("GET", f"/exceptions/{summary['exception_id']}").json()["overdue"] is True
    # and abandoning it resolves it (the webhook stays quarantined for later)
    done = api("POST", f"/exceptions/{summary['exception_id']}/abandon", body={"reason": "test vendor account"})
    assert done.status_code == 200 and done.json()["status"] == "resolved"


def test_the_publisher_and_the_notifier_called_only_what_their_policies_allow(stack, api):
    """Last in the module: the publisher opened the quarantine exceptions (inbox stream), within its role."""
    from tools import iam_audit

    functions = ("PublisherFunction", "OpsNotifierFunction", "OpsApiFunction")
    assert [f for f in iam_audit.audit(stack) if f.function in functions] == []
    called = {c.operation for f, calls in stack.aws_calls.items() if f == "PublisherFunction" for c in calls}
    assert {"PutItem", "PutEvents"} <= called
