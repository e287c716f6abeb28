"""Operator notifications: an exception opened, an exception past its SLA, a workflow failed, a DLQ received a
message. Each becomes an EventBridge event on the hub's bus (source `erphub.ops`, detail-type
`hub.exception.opened`, `hub.exception.overdue`, `hub.workflow.failed`, `hub.dlq.received`: teams route them to
chat or paging with rules) and a message on the operators' SNS topic (email subscription as a deploy parameter),
and is kept in the workflow table for `GET /ops/v1/notifications` (how they show locally).

Driven by the workflow table's stream (a new EXC item: opened; `overdue_at` newly set: overdue), so no
function that opens exceptions needs to know; `sweep_overdue` (on a schedule) marks exceptions past their SLA.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from erphub import aws
from erphub.errors import Transient
from erphub.observability import emit_safely, logger
from erphub.operations import inbox, kinds, sla
from erphub.settings import get_settings
from erphub.store.exceptions import ExceptionStore
from erphub.store.tables import from_item, query_partition, to_item, translated, workflow_table

SOURCE = "erphub.ops"
OPENED, OVERDUE = "hub.exception.opened", "hub.exception.overdue"
WORKFLOW_FAILED, DLQ_RECEIVED = "hub.workflow.failed", "hub.dlq.received"
KEEP_DAYS = 30  # how far back GET /notifications looks


def notification_for(record: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """A stream record of the workflow table -> (detail type, exception) when operators must hear of it."""
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    if not str(keys.get("pk", {}).get("S", "")).startswith("EXC#"):
        return None
    new = from_item(record["dynamodb"].get("NewImage") or {})
    old = from_item(record["dynamodb"].get("OldImage") or {})
    if record.get("eventName") == "INSERT" and new.get("status") == "open":
        kind = str(new.get("kind", ""))
        return (DLQ_RECEIVED if kind == "dead_letter" else WORKFLOW_FAILED if kind.endswith("_failed")
                else OPENED), new
    if new.get("overdue_at") and not old.get("overdue_at"):
        return OVERDUE, new
    return None


def on_stream_record(record: dict[str, Any]) -> dict[str, Any] | None:
    found = notification_for(record)
    return send(*found) if found else None


def send(detail_type: str, exception: dict[str, Any]) -> dict[str, Any]:
    """To the bus, the topic (when configured) and the notification log; returns what was sent."""
    view = inbox.summary(exception)
    detail = {"type": detail_type, "exception_id": view.exception_id, "kind": view.kind, "title": view.title,
              "owner": view.owner, "workflow": view.workflow, "correlation_id": view.correlation_id,
              "business_ids": view.business_ids, "reason": view.reason[:1000], "opened_at": view.opened_at,
              "due_at": view.due_at, "at": datetime.now(UTC).isoformat()}
    answer = aws.client("events").put_events(Entries=[{
        "EventBusName": get_settings().event_bus_name, "Source": SOURCE, "DetailType": detail_type,
        "Detail": json.dumps(detail)}])
    if answer.get("FailedEntryCount"):
        raise Transient(f"the bus refused {detail_type}", system="events", record=view.exception_id)
    topic = get_settings().ops_topic_arn
    if topic:
        aws.client("sns").publish(TopicArn=topic, Subject=_subject(detail_type, view)[:100],
                                  Message=json.dumps(detail, indent=2),
                                  MessageAttributes={"type": {"DataType": "String", "StringValue": detail_type},
                                                     "owner": {"DataType": "String", "StringValue": view.owner}})
    _keep(detail)
    logger.info("operators notified", extra={"notification": detail_type, "exception_id": view.exception_id})
    return detail


def _subject(detail_type: str, view: inbox.ExceptionSummary) -> str:
    what = {OPENED: "needs you", OVERDUE: "is past its SLA", WORKFLOW_FAILED: "workflow failed",
            DLQ_RECEIVED: "message dead-lettered", sla.SLA_BREACHED: "- the workflow is past its completion SLA"}[
        detail_type]
    return f"[erphub] {view.title} {what} ({view.owner}): {view.business_ids.get('business_key', view.correlation_id)}"


def _keep(detail: dict[str, Any]) -> None:
    day = detail["at"][:10]
    item = {"pk": f"NOTIFY#{day}", "sk": f"{detail['at']}#{uuid.uuid4().hex[:8]}", **detail}
    with translated(f"NOTIFY#{day}"):
        aws.client("dynamodb").put_item(TableName=workflow_table(), Item=to_item(item))


def recent(days: int = 1) -> list[dict[str, Any]]:
    """The notifications of the last `days` days, newest first."""
    today = datetime.now(UTC).date()
    found: list[dict[str, Any]] = []
    for back in range(max(1, min(days, KEEP_DAYS))):
        day = (today - timedelta(days=back)).isoformat()
        found += query_partition(aws.client("dynamodb"), workflow_table(), f"NOTIFY#{day}")
    return sorted(({k: v for k, v in n.items() if k not in ("pk", "sk")} for n in found),
                  key=lambda n: n["at"], reverse=True)


def sweep_overdue() -> dict[str, int]:
    """Mark every open exception past its SLA as overdue, once (the stream then notifies its owner); handle the
    workflows past their completion SLA (operations.sla); publish the exception gauges the alarms read."""
    store, marked, open_by_kind, past_sla = ExceptionStore(), 0, dict.fromkeys(_gauge_kinds(), 0), 0
    for item in store.all():
        if item.get("status") != "open":
            continue
        open_by_kind[item["kind"]] = open_by_kind.get(item["kind"], 0) + 1
        if inbox.summary(item).overdue:
            past_sla += 1
            marked += store.mark_overdue(item["exception_id"])
    for kind, count in open_by_kind.items():
        emit_safely("exceptions_open", count, kind=kind)
    emit_safely("exceptions_past_sla", past_sla)
    report = sla.sweep_breaches(send)
    return {"open": sum(open_by_kind.values()), "marked_overdue": marked, "past_sla": past_sla,
            "workflows_breached": report["breached"]}


def _gauge_kinds() -> list[str]:
    """The configured kinds (a zero is a data point: a graph that drops to zero, an alarm that clears)."""
    return [kind for kind in kinds.known() if "<" not in kind]
