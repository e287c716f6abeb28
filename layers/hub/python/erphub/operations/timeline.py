"""The run history of one business transaction: for a deal, a contract or a customer, one time-ordered list of
webhooks received, canonical events, workflow executions and their steps, records created in each system,
refusals, exceptions and operator actions.

Each kind of entry comes from one source function `(Scope) -> Found`; SOURCES lists them (the operator API's audit
trail is the last), so another record is one more function appended there. Every read is bounded (MAX_* below)
and a source that hit its bound marks the timeline `truncated`; a source that failed is named in `unavailable`
and the rest is still shown.

Scope: a deal or contract id is the business key of its canonical events (Salesforce: the opportunity's
Contract_Key__c, else its id; HubSpot: the deal id); a customer is every contract the identity table links to it,
plus its ids in each system. Quarantined webhooks have no business key until they are repaired and replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from erphub import aws
from erphub.canonical import EventEnvelope
from erphub.errors import HubError, ValidationFailed
from erphub.observability import logger
from erphub.settings import get_settings
from erphub.store import history
from erphub.workflows.starter import WORKFLOW_BY_EVENT_TYPE, execution_name

MAX_WEBHOOKS = 200  # per business key
MAX_RUN_ITEMS = 500  # per correlation id
MAX_CONTRACTS = 25  # per customer
MAX_EXECUTIONS = 25
MAX_HISTORY_EVENTS = 500  # per execution


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(description="webhook, event, replay, execution, step, record, refusal, signal, exception, "
                                  "operator_action, identity")
    summary: str
    system: str = ""
    correlation_id: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class Timeline(BaseModel):
    subject: Literal["deal", "contract", "customer"]
    id: str
    business_keys: list[str]
    correlation_ids: list[str]
    entries: list[TimelineEntry]
    truncated: bool
    unavailable: list[str] = Field(default_factory=list, description="sources that could not be read")


@dataclass
class Scope:
    business_keys: list[str]
    customer_id: str = ""
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # filled first: later sources read it

    @property
    def correlation_ids(self) -> list[str]:
        return sorted({str(w["correlation_id"]) for w in self.webhooks if w.get("correlation_id")})


Found = tuple[list[TimelineEntry], bool]


def timeline(subject: Literal["deal", "contract", "customer"], subject_id: str) -> Timeline:
    subject_id = (subject_id or "").strip()
    if subject not in ("deal", "contract", "customer") or not subject_id or len(subject_id) > 512:
        raise ValidationFailed("a timeline needs a deal, contract or customer id", system="hub")
    scope, truncated = _scope(subject, subject_id)
    entries, unavailable = [], []
    for source in SOURCES:
        try:
            found, cut = source(scope)
        except HubError as exc:
            logger.warning("timeline source unavailable", extra={"source": source.__name__, "error": exc.reason})
            unavailable.append(source.__name__)
            continue
        entries += found
        truncated |= cut
    entries.sort(key=lambda e: e.at)
    return Timeline(subject=subject, id=subject_id, business_keys=scope.business_keys,
                    correlation_ids=scope.correlation_ids, entries=entries, truncated=truncated,
                    unavailable=unavailable)


def _scope(subject: str, subject_id: str) -> tuple[Scope, bool]:
    if subject != "customer":
        return Scope(business_keys=[subject_id]), False
    items, truncated = history.customer_items(subject_id, MAX_RUN_ITEMS)
    contracts = [str(i["contract_id"]) for i in items if str(i["sk"]).startswith("CONTRACT#")]
    return Scope(business_keys=contracts[:MAX_CONTRACTS], customer_id=subject_id), truncated or len(
        contracts) > MAX_CONTRACTS


# --- sources ---------------------------------------------------------------------------------------------
def webhooks(scope: Scope) -> Found:
    """Each webhook received, its canonical event on the bus, and an operator's replay of it."""
    entries, truncated = [], False
    for key in scope.business_keys:
        found, cut = history.webhooks_of(key, MAX_WEBHOOKS)
        scope.webhooks += found
        truncated |= cut
    for w in scope.webhooks:
        common = {"system": str(w.get("source", "")), "correlation_id": str(w.get("correlation_id", ""))}
        entries.append(TimelineEntry(at=_time(w["received_at"]), kind="webhook", **common,
                                     summary=f"{w.get('source')} {w.get('vendor_type')} received ({w.get('status')})",
                                     detail={"inbox_key": w["pk"], "event_id": w.get("event_id")}))
        if w.get("published_at"):
            entries.append(TimelineEntry(at=_time(w["published_at"]), kind="event", **common,
                                         summary=f"{w.get('event_type')} published",
                                         detail={"event_id": w.get("event_id")}))
        if w.get("replayed_at"):
            entries.append(TimelineEntry(at=_time(w["replayed_at"]), kind="operator_action", **common,
                                         summary=f"quarantined webhook {w.get('repair')} and replayed by "
                                                 f"{w.get('replayed_by')}", detail={"reason": w.get("reason", "")}))
    return entries, truncated


def executions(scope: Scope) -> Found:
    """Each workflow execution its events started (named business key + version) and the steps it went through."""
    machines = get_settings().state_machine_arns
    names: dict[str, str] = {}
    for w in scope.webhooks:
        envelope = _envelope(w.get("event", ""))
        workflow = WORKFLOW_BY_EVENT_TYPE.get(str(envelope.type)) if envelope else None
        if envelope and workflow in machines:
            arn = machines[workflow].replace(":stateMachine:", ":execution:") + f":{execution_name(envelope)}"
            names[arn] = envelope.correlation_id
    entries, truncated = [], len(names) > MAX_EXECUTIONS
    for arn, correlation_id in list(names.items())[:MAX_EXECUTIONS]:
        found, cut = _execution(arn, correlation_id)
        entries += found
        truncated |= cut
    return entries, truncated


def run_records(scope: Scope) -> Found:
    """What each run recorded: its status, the records it created in each system, refusals, signal reactions."""
    entries, truncated = [], False
    for correlation_id in scope.correlation_ids:
        items, cut = history.run_items(correlation_id, MAX_RUN_ITEMS)
        truncated |= cut
        entries += [e for e in (_run_entry(i, correlation_id) for i in items) if e is not None]
    return entries, truncated


def exceptions(scope: Scope) -> Found:
    """Exceptions opened for the runs, and how (and by whom) each was resolved."""
    found, truncated = history.exceptions_of(set(scope.correlation_ids)) if scope.correlation_ids else ([], False)
    entries = []
    for e in found:
        common = {"system": str(e.get("workflow", "")), "correlation_id": str(e["correlation_id"])}
        entries.append(TimelineEntry(at=_time(e["opened_at"]), kind="exception", **common,
                                     summary=f"{e['kind']} exception opened: {e.get('reason', '')}",
                                     detail={"exception_id": e["exception_id"], "status": e.get("status")}))
        if e.get("closed_at"):
            entries.append(TimelineEntry(at=_time(e["closed_at"]), kind="operator_action", **common,
                                         summary=f"{e['kind']} exception closed: {e.get('resolution', '')}",
                                         detail={"exception_id": e["exception_id"]}))
    return entries, truncated


def identity(scope: Scope) -> Found:
    """A customer's ids in each system (the identity cross-reference), when they were linked."""
    if not scope.customer_id:
        return [], False
    items, truncated = history.customer_items(scope.customer_id, MAX_RUN_ITEMS)
    return [TimelineEntry(at=_time(i["linked_at"]), kind="identity", system=str(i.get("system", "")),
                          summary=f"{i.get('system')} id {i.get('system_id')} linked"
                                  + (f" for {i['entity']}" if i.get("entity", "-") != "-" else ""),
                          detail={"system_id": i.get("system_id"), "entity": i.get("entity")})
            for i in items if str(i["sk"]).startswith("XREF#") and i.get("linked_at")], truncated


def operator_actions(scope: Scope) -> Found:
    """The operator API's audit trail of each run: who did what, with the note and the status change."""
    from erphub.store.audit import AuditStore

    entries, truncated, store = [], False, AuditStore()
    for correlation_id in scope.correlation_ids:
        trail = store.of_run(correlation_id)
        truncated |= len(trail) > MAX_RUN_ITEMS
        for a in trail[:MAX_RUN_ITEMS]:
            change = f" ({a['before'].get('status')} -> {a['after'].get('status')})" if a.get("before", {}).get(
                "status") else ""
            entries.append(TimelineEntry(
                at=_time(a["at"]), kind="operator_action", system="operator", correlation_id=correlation_id,
                summary=f"{a['actor']}: {a['action']}{change}" + (f": {a['note']}" if a.get("note") else ""),
                detail={"audit_id": a.get("audit_id"), "exception_id": a.get("exception_id"),
                        "before": a.get("before"), "after": a.get("after")}))
    return entries, truncated


# webhooks first: the others read the correlation ids and events it collects
SOURCES: list[Callable[[Scope], Found]] = [webhooks, executions, run_records, exceptions, identity, operator_actions]


# --- helpers -----------------------------------------------------------------------------------------------
def _execution(arn: str, correlation_id: str) -> Found:
    from botocore.exceptions import ClientError

    sfn = aws.client("stepfunctions")
    try:
        page = sfn.get_execution_history(executionArn=arn, maxResults=MAX_HISTORY_EVENTS)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return [], False
        raise HubError(f"could not read the history of {arn}", system="stepfunctions") from exc
    name = arn.rsplit(":", 1)[-1]
    events = page["events"][:MAX_HISTORY_EVENTS]  # moto 5.2.5 ignores maxResults; AWS pages
    entries = [e for e in (_step(event, name, correlation_id) for event in events) if e is not None]
    return entries, "nextToken" in page or len(page["events"]) > MAX_HISTORY_EVENTS


_STEP_EVENTS = {"ExecutionStarted": "execution started", "ExecutionSucceeded": "execution succeeded",
                "ExecutionFailed": "execution failed", "ExecutionAborted": "execution aborted",
                "ExecutionTimedOut": "execution timed out", "TaskFailed": "task failed",
                "TaskTimedOut": "task timed out", "LambdaFunctionFailed": "task failed"}


def _step(event: dict[str, Any], execution: str, correlation_id: str) -> TimelineEntry | None:
    kind = event["type"]
    common = {"system": "stepfunctions", "correlation_id": correlation_id}
    if kind.endswith("StateEntered"):
        state = event["stateEnteredEventDetails"]["name"]
        return TimelineEntry(at=event["timestamp"], kind="step", summary=f"{execution}: {state}",
                             detail={"execution": execution, "state": state}, **common)
    if kind in _STEP_EVENTS:
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        reason = " ".join(str(details[k]) for k in ("error", "cause") if details.get(k))[:500]
        return TimelineEntry(at=event["timestamp"], kind="execution" if kind.startswith("Execution") else "step",
                             summary=f"{execution}: {_STEP_EVENTS[kind]}" + (f" ({reason})" if reason else ""),
                             detail={"execution": execution}, **common)
    return None


def _run_entry(item: dict[str, Any], correlation_id: str) -> TimelineEntry | None:
    sk, common = str(item["sk"]), {"correlation_id": correlation_id}
    if sk.startswith("STATUS#"):  # one per run (store/run_status.py)
        return TimelineEntry(at=_time(item["updated_at"]), kind="execution", system=str(item.get("workflow", "")),
                             summary=f"{item.get('workflow')} v{item.get('version')} {item.get('status')}"
                                     + (f": {item['reason']}" if item.get("reason") else ""), **common)
    if sk.startswith("REC#"):
        state = f" ({item['state']})" if item.get("state") not in (None, "created") else ""
        return TimelineEntry(at=_time(item["at"]), kind="record", system=str(item["system"]),
                             summary=f"{item['system']} {item['kind']} {item['record_id']} created{state}",
                             detail={"record_id": item["record_id"], "key": item.get("key"),
                                     "state": item.get("state")}, **common)
    if sk.startswith("REFUSED#"):
        return TimelineEntry(at=_time(item["at"]), kind="refusal", system=str(item.get("target", "")),
                             summary=f"write of {item['entity']}.{item['field']} to {item['target']} refused: "
                                     f"{item['master']} masters it", **common)
    if sk.startswith("SIGNAL#"):
        return TimelineEntry(at=_time(item["at"]), kind="signal", system=str(item.get("system", "")),
                             summary=f"{item.get('system')} reacted to {item.get('kind')}", **common)
    return None


def _envelope(event_json: str) -> EventEnvelope | None:
    try:
        return EventEnvelope.model_validate(json.loads(event_json)) if event_json else None
    except (ValueError, ValidationError):  # claim-checked events carry no data: their name needs only the header
        try:
            header = json.loads(event_json)
            return EventEnvelope.model_construct(**{k: header[k] for k in ("type", "business_key", "version",
                                                                           "correlation_id")})
        except (ValueError, KeyError, TypeError):
            return None


def _time(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
