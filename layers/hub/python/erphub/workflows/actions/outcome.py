"""Hub actions: exceptions that wait for an operator, and the events of record of each workflow."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.canonical import EventEnvelope, WorkflowOutcome, event_id_for
from erphub.errors import Transient
from erphub.observability import emit_safely
from erphub.publishing import EVENT_SOURCE
from erphub.settings import get_settings
from erphub.store.workflow_state import COMPLETED, FAILED, REFUSED, WAITING, WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run

ABANDONED = "OperatorAbandoned"  # the error an operator's abandon sends to a waiting run (workflows/operator.py)


def describe_error(error: Any) -> tuple[str, str]:
    """A Catch's {"Error", "Cause"} -> (error name, readable message); Lambda causes are JSON."""
    if isinstance(error, list):  # a branch's error picked by an indexed path may come as a one-item list
        error = error[0] if error else None
    if not isinstance(error, dict):
        return "", ""
    cause = error.get("Cause") or ""
    with contextlib.suppress(ValueError, AttributeError):
        cause = json.loads(cause).get("errorMessage", cause)
    return str(error.get("Error", "")), str(cause)


@action("exceptions.wait")
def wait_for_operator(run: Run) -> dict[str, Any]:
    """Open an exception holding the task token; the execution waits until an operator resumes it."""
    kind = run.field("kind", "exception")
    name, message = describe_error(run.state.get("error"))
    reason = run.field("reason") or message or kind
    if kind == "data_quality":
        reason = "; ".join(run.result("quality").get("issues") or []) or reason
    elif kind == "approval":
        reason = "; ".join(run.result("approval").get("reasons") or []) or reason
    elif kind == "identity_conflict":
        reason = run.result("identity").get("reason") or reason
    elif kind == "billing_alignment":
        reason = "renewal lacking billing alignment: " + "; ".join(run.result("alignment").get("differences") or [])
    store = WorkflowStore()
    detail = {"error": name, "event": run.state.get("event")}
    if kind == "identity_conflict":  # the candidates and the conflict record the operator's choice closes
        detail["identity"] = run.result("identity")
    version = run.envelope.version
    exception_id = store.open_exception(run.correlation_id, run.workflow, kind, reason,
                                        task_token=run.field("task_token"), detail=detail, version=version)
    store.record_status(run.correlation_id, run.workflow, WAITING, version=version, reason=f"{kind}: {reason}")
    return {"exception_id": exception_id}


@action("exceptions.raise")
def raise_exception(run: Run) -> dict[str, Any]:
    kind = run.field("kind", "exception")
    reason = run.field("reason") or "; ".join(run.result("reconciliation").get("mismatches") or []) or kind
    exception_id = WorkflowStore().open_exception(run.correlation_id, run.workflow, kind, reason,
                                                  version=run.envelope.version)
    return {"exception_id": exception_id, "reason": reason}


def _emit(run: Run, status: str, **fields: Any) -> dict[str, Any]:
    envelope_in = run.envelope
    data = envelope_in.data
    key = getattr(data, "contract_id", None) or envelope_in.business_key
    records = {k: v for k, v in run.result("identity").get("xrefs", {}).items()}
    store = WorkflowStore()
    for record in store.created(run.correlation_id):
        records[f"{record['system']}/{record['kind']}/{record['key']}"] = record["record_id"]
    outcome = WorkflowOutcome(workflow=run.workflow, status=status, business_key=str(key),
                              contract_version=getattr(data, "version", None), customer_id=run.customer_id or None,
                              records=records, **fields)
    event_type = f"{run.workflow}.{status}"
    source_event_id = f"{run.correlation_id}:{envelope_in.version}:{event_type}"
    envelope = EventEnvelope(event_id=event_id_for(EVENT_SOURCE, source_event_id), type=event_type,
                             source=EVENT_SOURCE, source_event_id=source_event_id, occurred_at=datetime.now(UTC),
                             correlation_id=run.correlation_id, business_key=str(key), version=envelope_in.version,
                             data=outcome)
    response = aws.client("events").put_events(Entries=[{
        "EventBusName": get_settings().event_bus_name, "Source": EVENT_SOURCE, "DetailType": event_type,
        "Detail": envelope.model_dump_json()}])
    if response.get("FailedEntryCount"):
        raise Transient(f"the bus refused {event_type}", system="events", record=run.correlation_id)
    store.record_status(run.correlation_id, run.workflow, status, version=envelope_in.version,
                        reason=fields.get("reason") or "",
                        detail={"event_id": envelope.event_id, "type": event_type})
    emit_safely("workflow_outcomes", workflow=run.workflow, status=status)
    return {"event_id": envelope.event_id, "type": event_type, "status": status}


@action("outcome.completed")
def completed(run: Run) -> dict[str, Any]:
    return _emit(run, COMPLETED)


@action("outcome.refused")
def refused(run: Run) -> dict[str, Any]:
    reason = run.field("reason") or "refused"
    if run.result("version").get("stale"):
        version = run.result("version")
        reason = f"stale amendment: version {version.get('version')} is not newer than {version.get('applied_version')}"
    return _emit(run, REFUSED, reason=reason)


@action("outcome.failed")
def failed(run: Run) -> dict[str, Any]:
    """Record what happened as an operator exception and emit <workflow>.failed with the reason."""
    store = WorkflowStore()
    name, message = describe_error(run.state.get("error"))
    reason = run.field("reason") or (f"{name}: {message}" if name else "failed")
    step = (store.run_status(run.correlation_id, run.workflow, run.envelope.version) or {}).get("step")
    compensated = [f"{r['system']}:{r['kind']}:{r['record_id']}" for r in store.created(run.correlation_id)
                   if r.get("state") not in (None, "created")]
    _expire_waits(run, name, reason)
    if name == ABANDONED:  # an operator gave the run up: the abandoned exception already says so, none is opened
        return _emit(run, FAILED, reason=reason, failed_step=step, compensated=compensated)
    exception_id = store.open_exception(run.correlation_id, run.workflow, f"{run.workflow}_failed",
                                        f"{reason} (at {step}; undone: {', '.join(compensated) or 'nothing'})",
                                        detail={"error": name, "event": run.state.get("event")},
                                        version=run.envelope.version)
    return _emit(run, FAILED, reason=reason, failed_step=step, compensated=compensated, exception_id=exception_id)


def _expire_waits(run: Run, error: str, reason: str) -> None:
    """The run no longer waits on its open exceptions (a wait timed out, or the run failed past it): they are
    closed as expired, a timed-out one escalated first (overdue: its owner is told), so the inbox shows no
    exception whose action could reach nothing."""
    from erphub.store.exceptions import ExceptionStore

    store = ExceptionStore()
    for waiting in WorkflowStore().exceptions(run.correlation_id):
        if not waiting.get("task_token"):
            continue
        if error in ("States.Timeout", "States.HeartbeatTimeout") or error.endswith("TimedOut"):  # or on_timeout's
            store.mark_overdue(waiting["exception_id"])
        store.expire(waiting["exception_id"], f"expired: the run stopped waiting ({reason})")
