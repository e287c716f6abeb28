"""Workflow completion SLAs (config/exception_kinds.json `workflow_slas`): a run still running or waiting longer
than its workflow's SLA after it started has breached it. The breach is handled once per run (a conditional
`sla_breached_at` on its status item): an event `hub.workflow.sla_breached` (bus, operators' topic, notification
log), the metric `workflow_sla_breaches` {workflow} and a `workflow_sla_breached` exception for its owner.

The same sweep publishes the gauges the dashboard and alarms read: open runs and the oldest open run's age per
workflow (`workflow_runs_open`, `workflow_run_oldest_age`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.errors import Conflict
from erphub.observability import emit_safely, logger
from erphub.operations import kinds
from erphub.store.tables import from_item, to_item, translated, workflow_table
from erphub.store.workflow_state import RUNNING, STATUS_PREFIX, WAITING, WorkflowStore

SLA_BREACHED = "hub.workflow.sla_breached"
BREACH_KIND = "workflow_sla_breached"
OPEN_STATUSES = (RUNNING, WAITING)


def workflow_slas() -> dict[str, int]:
    """Seconds each workflow may take from start to an outcome."""
    configured = kinds._config().get("workflow_slas", {})
    return {name: int(seconds) for name, seconds in configured.items() if not name.startswith("_")}


def open_runs() -> list[dict[str, Any]]:
    """Every run still running or waiting (a scan of the status items: a few hundred open runs at most)."""
    found: list[dict[str, Any]] = []
    with translated("open runs"):
        for page in aws.client("dynamodb").get_paginator("scan").paginate(
                TableName=workflow_table(),
                FilterExpression="begins_with(sk, :status) AND #s IN (:running, :waiting)",  # one item per run
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":status": STATUS_PREFIX, ":running": RUNNING,
                                                   ":waiting": WAITING})):
            found += [from_item(i) for i in page["Items"]]
    return found


def age_seconds(run: dict[str, Any], at: datetime) -> float:
    return (at - datetime.fromisoformat(str(run["started_at"]))).total_seconds()


def sweep_breaches(send: Callable[[str, dict[str, Any]], Any], at: datetime | None = None) -> dict[str, int]:
    """Handle every new breach once and publish the open-run gauges; returns {"open_runs", "breached"}."""
    at = at or datetime.now(UTC)
    slas, runs, breached = workflow_slas(), open_runs(), 0
    for run in runs:
        sla = slas.get(str(run.get("workflow")))
        if sla is not None and age_seconds(run, at) > sla and _mark_breached(run, at):
            _breach(run, sla, send)
            breached += 1
    _publish_gauges(runs, slas, at)
    return {"open_runs": len(runs), "breached": breached}


def _mark_breached(run: dict[str, Any], at: datetime) -> bool:
    """True once per run: the first sweep that sees the breach claims it."""
    try:
        with translated(f"{run['pk']} {run['sk']}"):
            aws.client("dynamodb").update_item(
                TableName=workflow_table(), Key=to_item({"pk": run["pk"], "sk": run["sk"]}),
                UpdateExpression="SET sla_breached_at = :at",
                ConditionExpression="attribute_not_exists(sla_breached_at) AND #s IN (:running, :waiting)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":at": at.isoformat(), ":running": RUNNING, ":waiting": WAITING}))
    except Conflict:
        return False
    return True


def _breach(run: dict[str, Any], sla: int, send: Callable[[str, dict[str, Any]], Any]) -> None:
    correlation_id, workflow = str(run["pk"]).removeprefix("RUN#"), str(run["workflow"])
    reason = (f"{workflow} started {run['started_at']} is still {run['status']} (step {run.get('step') or '-'}) "
              f"past its completion SLA of {sla // 3600} h {sla % 3600 // 60} min")
    store = WorkflowStore()
    exception_id = store.open_exception(correlation_id, workflow, BREACH_KIND, reason,
                                        seed=f"{correlation_id}:{run['sk']}:{BREACH_KIND}", version=run.get("version"))
    emit_safely("workflow_sla_breaches", workflow=workflow)
    send(SLA_BREACHED, store.exception(exception_id))
    logger.warning("workflow SLA breached", extra={"correlation_id": correlation_id, "workflow": workflow,
                                                   "exception_id": exception_id})


def _publish_gauges(runs: list[dict[str, Any]], slas: dict[str, int], at: datetime) -> None:
    for workflow in slas:
        ages = [age_seconds(r, at) for r in runs if r.get("workflow") == workflow]
        emit_safely("workflow_runs_open", len(ages), workflow=workflow)
        emit_safely("workflow_run_oldest_age", max(ages, default=0), "Seconds", workflow=workflow)
