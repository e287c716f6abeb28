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


class RunView(BaseModel):
    correlation_id: str
    workflow: str = ""
    status: str = ""
    step: str = ""
    reason: str = ""
    started_at: str = ""
    updated_at: str = ""
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
    return RunView(correlation_id=correlation_id, workflow=status.get("workflow") or "",
                   status=status.get("status") or "", step=status.get("step") or "",
                   reason=status.get("reason") or "", started_at=status.get("started_at") or "",
                   updated_at=status.get("updated_at") or "", exceptions=exceptions, audit=inbox.plain(trail))


@router.get("/me", summary="Who the token belongs to and the groups it carries")
def me() -> Principal:
    principal = router.context.get("principal")
    assert isinstance(principal, Principal)
    return principal
