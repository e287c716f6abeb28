"""The exceptions inbox: one view per exception (kind, business ids, workflow and step, error, payload, age,
owner, SLA, comments, status) and the filters an operator uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from erphub.operations import audit, kinds
from erphub.store.exceptions import RESOLVED, ExceptionStore
from erphub.store.workflow_state import WorkflowStore

STATUSES = ("open", "acting", "resolved")


class Comment(BaseModel):
    by: str
    at: str
    text: str


class ExceptionSummary(BaseModel):
    exception_id: str
    kind: str
    title: str
    status: str = Field(description="open, acting (an action is under way) or resolved")
    owner: str
    workflow: str = ""
    correlation_id: str
    business_ids: dict[str, str] = Field(default_factory=dict)
    reason: str = ""
    error: str = ""
    opened_at: str
    age_seconds: int
    sla_seconds: int
    due_at: str
    overdue: bool
    actions: list[str] = Field(description="what resolves it (none once resolved)")


class ExceptionDetail(ExceptionSummary):
    step: str = ""
    run_status: str = ""
    payload: dict[str, Any] | None = Field(default=None, description="the canonical event the run works on")
    candidates: list[str] = Field(default_factory=list,
                                  description="an identity conflict's customers, one of which `choose` takes")
    comments: list[Comment] = Field(default_factory=list)
    resolution: str = ""
    resolved_by: str = ""
    resolved_at: str = ""
    note: str = ""
    outcome: dict[str, Any] = Field(default_factory=dict)
    audit: list[dict[str, Any]] = Field(default_factory=list)


class Filters(BaseModel):
    kind: str | None = None
    status: str | None = None
    owner: str | None = None
    min_age_seconds: int | None = None
    business_id: str | None = None


def business_ids(item: dict[str, Any]) -> dict[str, str]:
    """The business identifiers an operator searches by: customer, deal, contract, invoice, account, webhook."""
    event = (item.get("detail") or {}).get("event") or {}
    data = event.get("data") or {}
    account = data.get("account") if isinstance(data.get("account"), dict) else {}
    found = {"business_key": event.get("business_key"), "contract": data.get("contract_id"),
             "deal": data.get("opportunity_id") or data.get("deal_id"), "invoice": data.get("invoice_id"),
             "customer": data.get("customer_id") or ((item.get("detail") or {}).get("identity") or {}).get(
                 "customer_id"), "account": (account or {}).get("account_id") or data.get("account_id"),
             "webhook": (item.get("detail") or {}).get("inbox_key")}  # a quarantined webhook: <source>#<id>
    return {k: str(v) for k, v in found.items() if v}


def summary(item: dict[str, Any], now: datetime | None = None) -> ExceptionSummary:
    kind = kinds.of(item["kind"])
    opened = datetime.fromisoformat(item["opened_at"])
    now = now or datetime.now(UTC)
    status = RESOLVED if item["status"] == "closed" else item["status"]
    due = opened + timedelta(seconds=kind.sla_seconds)
    return ExceptionSummary(
        exception_id=item["exception_id"], kind=item["kind"], title=kind.title, status=status,
        owner=item.get("owner") or kind.owner, workflow=item.get("workflow") or "",
        correlation_id=item["correlation_id"], business_ids=business_ids(item), reason=item.get("reason") or "",
        error=str((item.get("detail") or {}).get("error") or ""), opened_at=item["opened_at"],
        age_seconds=int((now - opened).total_seconds()), sla_seconds=kind.sla_seconds, due_at=due.isoformat(),
        overdue=status != RESOLVED and now > due, actions=kind.actions if status == "open" else [])


def listing(filters: Filters) -> list[ExceptionSummary]:
    now = datetime.now(UTC)
    views = [summary(item, now) for item in ExceptionStore().all()]
    return [v for v in views if _matches(v, filters)]


def _matches(view: ExceptionSummary, f: Filters) -> bool:
    return ((f.kind is None or view.kind == f.kind)
            and (f.status is None or view.status == f.status)
            and (f.owner is None or view.owner == f.owner)
            and (f.min_age_seconds is None or view.age_seconds >= f.min_age_seconds)
            and (f.business_id is None or f.business_id in (view.correlation_id, *view.business_ids.values())))


def detail(exception_id: str) -> ExceptionDetail:
    item = ExceptionStore().get(exception_id)
    run = _run_of(item)
    return ExceptionDetail(
        **summary(item).model_dump(), step=run.get("step") or "", run_status=run.get("status") or "",
        payload=plain((item.get("detail") or {}).get("event")),
        candidates=[str(c) for c in ((item.get("detail") or {}).get("identity") or {}).get("candidates") or []],
        comments=[Comment.model_validate(c) for c in item.get("comments") or []],
        resolution=item.get("resolution") or "", resolved_by=item.get("resolved_by") or "",
        resolved_at=item.get("resolved_at") or item.get("closed_at") or "", note=item.get("note") or "",
        outcome=plain(item.get("outcome") or {}), audit=plain(audit.of_exception(item)))


def _run_of(item: dict[str, Any]) -> dict[str, Any]:
    """The status of the run that opened the exception (its workflow + version), else the contract's view."""
    store = WorkflowStore()
    if item.get("version") is not None:
        return store.run_status(item["correlation_id"], item["workflow"], item["version"]) or {}
    return store.status(item["correlation_id"]) or {}


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as JSON numbers."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
