"""How the exception kinds nothing waits on come about on the local stack, for the operator's-day tests of every kind
(test_ops_console_kinds.py in the browser, test_ops_cli_kinds.py with `erphub ops`): drift an accountant makes in
NetSuite that a reconciliation finds, an activation that waits on an outage past its completion SLA, and a deal's
event the outbox cannot publish."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from deals import Deal
from flows import activate, correlation, sales_orders, seed_crm, send_deal

from local import webhooks

SKU = "PLATFORM-ENT"


def us_order(hub: Any, deal: Deal) -> dict[str, Any]:
    [order] = [o for o in sales_orders(hub, deal) if o["entity"]["externalId"].endswith(":LE-US")]
    return order


def set_erp_seats(hub: Any, deal: Deal, seats: int) -> None:
    """An accountant edits the US order line in NetSuite (the record rewritten through the sandbox control API)."""
    order = us_order(hub, deal)
    for line in order["item"]["items"]:
        if line["item"]["externalId"] == SKU:
            line["quantity"] = seats
    hub.sandbox.seed("netsuite", "salesOrder", order)


def drifted(hub: Any, label: str) -> Deal:
    """An activated deal whose US order line was changed in NetSuite behind the hub's back (100 -> 80 seats)."""
    deal, _ = activate(hub, label)
    set_erp_seats(hub, deal, 80)
    return deal


def reconcile(hub: Any, post: Any, get: Any) -> dict[str, Any]:
    """Start a reconciliation as an operator does (POST /reconciliations) and wait for its complete report."""
    started = post("/reconciliations")
    return hub.stack.wait_until(
        lambda: (r := get(f"/reconciliations/{started['reconciliation_id']}"))["status"] == "completed" and r,
        timeout=90, interval=0.5)


def contract_result(report: dict[str, Any], deal: Deal) -> dict[str, Any]:
    [result] = [c for c in report["contracts"] if c["contract_id"] == deal.opportunity_id]
    return result


def late_activation(hub: Any, label: str) -> Deal:
    """An activation waiting on a NetSuite outage whose run started 5 hours ago (its SLA is 4 h), and the
    notifier's 5-minute sweep that finds it."""
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=100_000)
    deal = Deal(label)
    send_deal(hub, deal)
    hub.exception(correlation(deal), "erp_outage", timeout=60)
    ddb, table = hub.stack.client("dynamodb"), hub.stack.physical("WorkflowTable")

    def waiting() -> dict[str, Any] | None:  # the run's status record says so a moment after the exception opened
        [run] = ddb.query(TableName=table, KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
                          ConsistentRead=True, ExpressionAttributeValues={
                              ":pk": {"S": f"RUN#{correlation(deal)}"}, ":sk": {"S": "STATUS#activation"}})["Items"]
        return run if run["status"]["S"] == "waiting" else None

    run = hub.stack.wait_until(waiting, timeout=20, interval=0.2)
    ddb.update_item(TableName=table, Key={"pk": run["pk"], "sk": run["sk"]}, UpdateExpression="SET started_at = :at",
                    ExpressionAttributeValues={":at": {"S": (datetime.now(UTC) - timedelta(hours=5)).isoformat()}})
    hub.stack.invoke("OpsNotifierFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    return deal


def unpublishable(hub: Any, monkeypatch: Any, label: str) -> tuple[Deal, str]:
    """A closed-won deal whose stored event got corrupted before it was published (as a mapping bug would): the outbox
    sweep cannot publish it, quarantines the webhook and opens an outbox_unpublishable exception. Returns the deal and
    the webhook's inbox key."""
    from erphub import publishing

    deal = Deal(label)
    body = deal.outbound_message()
    key = "salesforce#" + re.search(rb"<Id>(04l[^<]*)</Id>", body).group(1).decode()
    real, held = publishing.publish_in_order, {key}  # the stream path leaves it to the sweep until the sweep ran
    monkeypatch.setattr(publishing, "publish_in_order", lambda pending: real([p for p in pending if p.key not in held]))
    monkeypatch.setattr(hub.stack.scheduler, "fire", lambda name: None)  # the sweep runs when the test says
    seed_crm(hub, deal)
    assert webhooks.post(hub.gateway, "salesforce", body)[0] == 200
    # an accepted item waiting for the bus with a broken event (a replay's, or one mapped by a buggy release)
    hub.stack.client("dynamodb").update_item(
        TableName=hub.stack.physical("InboxTable"), Key={"pk": {"S": key}},
        UpdateExpression="SET #e = :broken, #s = :accepted", ExpressionAttributeNames={"#e": "event", "#s": "status"},
        ExpressionAttributeValues={":broken": {"S": '{"type": "crm.'}, ":accepted": {"S": "accepted"}})
    assert hub.stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})["skipped"] >= 1
    held.clear()  # quarantined now: a late stream record of it finds it no longer accepted
    return deal, key
