"""/runs: where one workflow run stands, its exceptions and the operator actions that touched it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from erphub.errors import NotFound
from erphub.operations import audit, inbox
from erphub.operations.roles import Principal
from erphub.store.workflow_state import WorkflowStore

router = Router()


class WorkflowRunView(BaseModel):
    """One execution of one workflow for one contract version (an operator's retry: its own correlation id)."""

    correlation_id: str = ""
    workflow: str = ""
    version: str = ""
    status: str = ""
    step: str = ""
    reason: str = ""
    started_at: str = ""
    updated_at: str = ""


class RunView(BaseModel):
    """The contract's (or retry's) current run at the top, its derived state, and every run."""

    correlation_id: str
    state: str = Field("", description="active, amended, renewed, cancelled (newest completed run not refused), "
                                       "pending (none completed yet) or refused (every run refused)")
    workflow: str = ""
    version: str = ""
    status: str = ""
    step: str = ""
    reason: str = ""
    started_at: str = ""
    updated_at: str = ""
    runs: list[WorkflowRunView] = Field(default_factory=list)
    exceptions: list[inbox.ExceptionSummary] = Field(default_factory=list)
    audit: list[dict[str, Any]] = Field(default_factory=list)


@router.get("/runs/<correlation_id>", summary="A run's status, exceptions and audit trail")
def show_run(correlation_id: str) -> RunView:
    status = WorkflowStore().status(correlation_id)
    exceptions = inbox.listing(inbox.Filters(business_id=correlation_id))
    exceptions = [e for e in exceptions if e.correlation_id == correlation_id]
    trail = audit.of_run(correlation_id)
    if status is None and not exceptions and not trail:
        raise NotFound(f"no run {correlation_id}", system="hub", record=correlation_id)
    status = status or {}
    return RunView(correlation_id=correlation_id, state=status.get("state") or "",
                   **_run_fields(status).model_dump(exclude={"correlation_id"}),
                   runs=[_run_fields(r) for r in status.get("runs") or []],
                   exceptions=exceptions, audit=inbox.plain(trail))


def _run_fields(record: dict[str, Any]) -> WorkflowRunView:
    return WorkflowRunView(**{name: str(record.get(name) or "") for name in WorkflowRunView.model_fields})


@router.get("/me", summary="Who the token belongs to and the groups it carries")
def me() -> Principal:
    principal = router.context.get("principal")
    assert isinstance(principal, Principal)
    return principal
