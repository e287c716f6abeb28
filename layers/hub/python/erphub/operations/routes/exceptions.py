"""/exceptions: the inbox (filter, inspect) and the actions that resolve an exception exactly once."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field

from erphub.operations import audit, inbox, resolutions
from erphub.operations.routes import actor
from erphub.store.exceptions import ExceptionStore
from erphub.workflows import operator

router = Router()


class Note(BaseModel):
    note: str = Field(default="", max_length=2000, description="kept with the decision and in the audit trail")


class FixRequest(Note):
    changes: dict[str, Any] = Field(description="fields of the waiting deal to change, merged into it "
                                                "(e.g. {\"account\": {\"legal_entities\": [...]}})")


class ChooseRequest(Note):
    customer_id: str = Field(min_length=1, description="one of the conflict's candidates")


class AbandonRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ResolveRequest(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="what was fixed, and where")


class AssignRequest(Note):
    owner: str = Field(min_length=1, max_length=200)


class CommentRequest(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class ActionResult(BaseModel):
    exception_id: str
    action: str
    status: str
    resolution: str
    outcome: dict[str, Any] = Field(default_factory=dict)
    audit_id: str


@router.get("/exceptions", summary="The exceptions inbox, oldest first")
def list_exceptions(kind: Annotated[str | None, Query()] = None, status: Annotated[str | None, Query()] = None,
                    owner: Annotated[str | None, Query()] = None,
                    min_age_seconds: Annotated[int | None, Query(ge=0)] = None,
                    business_id: Annotated[str | None, Query()] = None) -> list[inbox.ExceptionSummary]:
    return inbox.listing(inbox.Filters(kind=kind, status=status, owner=owner, min_age_seconds=min_age_seconds,
                                       business_id=business_id))


@router.get("/exceptions/<exception_id>", summary="One exception with its payload, comments and audit trail")
def show(exception_id: str) -> inbox.ExceptionDetail:
    return inbox.detail(exception_id)


@router.post("/exceptions/<exception_id>/approve", summary="Approve the deal; the activation goes on")
def approve(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    return _result(operator.decide(exception_id, True, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/reject", summary="Reject the deal; the activation fails, note kept")
def reject(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    return _result(operator.decide(exception_id, False, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/acknowledge", summary="Seen, deciding: keeps the approval wait alive")
def acknowledge(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    return _result(operator.acknowledge(exception_id, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/fix",
             summary="Correct the waiting deal in the CRM that masters it and resume; recorded as a diff")
def fix(exception_id: str, request: Annotated[FixRequest, Body()]) -> ActionResult:
    return _result(operator.fix_deal(exception_id, request.changes, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/reread",
             summary="Read the deal again from the CRM that masters it (fixed there) and resume with it")
def reread(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    return _result(operator.reread_deal(exception_id, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/choose", summary="Choose the customer of an identity conflict")
def choose(exception_id: str, request: Annotated[ChooseRequest, Body()]) -> ActionResult:
    return _result(operator.choose_customer(exception_id, request.customer_id, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/resume", summary="Resume the waiting step (the outage is over)")
def resume(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    return _result(operator.resume(exception_id, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/retry", summary="Run a failed or compensated workflow again, as a new run")
def retry(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    return _result(operator.retry(exception_id, by=actor(router), note=request.note))


@router.post("/exceptions/<exception_id>/abandon", summary="Give up, with a reason (a waiting run compensates)")
def abandon(exception_id: str, request: Annotated[AbandonRequest, Body()]) -> ActionResult:
    return _result(operator.abandon(exception_id, request.reason, by=actor(router)))


@router.post("/exceptions/<exception_id>/resolve",
             summary="The cause was fixed outside the hub (no workflow waits on it): close it, with what was fixed")
def resolve(exception_id: str, request: Annotated[ResolveRequest, Body()]) -> ActionResult:
    return _result(resolutions.resolve(exception_id, request.note, by=actor(router)))


@router.post("/exceptions/<exception_id>/assign", summary="Reassign the exception to another owner")
def assign(exception_id: str, request: Annotated[AssignRequest, Body()]) -> inbox.ExceptionDetail:
    store = ExceptionStore()
    before = store.get(exception_id)
    store.assign(exception_id, request.owner)
    after = store.get(exception_id)
    audit.record(actor(router), "assign", {**before, "owner": inbox.summary(before).owner}, after, note=request.note)
    return inbox.detail(exception_id)


@router.post("/exceptions/<exception_id>/comments", summary="Add a comment")
def comment(exception_id: str, request: Annotated[CommentRequest, Body()]) -> inbox.ExceptionDetail:
    store = ExceptionStore()
    before = store.get(exception_id)
    store.comment(exception_id, actor(router), request.text)
    audit.record(actor(router), "comment", before, store.get(exception_id), note=request.text)
    return inbox.detail(exception_id)


def _result(done: dict[str, Any]) -> ActionResult:
    return ActionResult.model_validate({**done, "outcome": inbox.plain(done.get("outcome") or {})})
