"""/dlqs: every dead-letter queue with depth and oldest age, its messages with why each failed, redrive, purge."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import Field

from erphub.errors import Conflict, Permanent
from erphub.operations import audit, dlqs, inbox
from erphub.operations.routes import StrictRequest, actor
from erphub.store.failures import FailureStore
from erphub.store.workflow_state import WorkflowStore

router = Router()


class RedriveRequest(StrictRequest):
    message_id: str | None = Field(default=None, min_length=1,
                                   description="one message (its DLQ message id); omitted: every message")
    note: str = Field(default="", max_length=2000)


class ExceptionRedriveRequest(StrictRequest):
    note: str = Field(default="", max_length=2000)


class PurgeRequest(StrictRequest):
    confirm: str = Field(description="the queue's name again: purging deletes every message for good")
    note: str = Field(default="", max_length=2000)


@router.get("/dlqs", summary="Every dead-letter queue with its source queues, depth and oldest message's age")
def list_queues() -> list[dlqs.DeadLetterQueue]:
    return dlqs.dead_letter_queues()


@router.get("/dlqs/<queue>/messages", summary="A DLQ's messages with their failure reasons (a peek)")
def messages(queue: str, limit: Annotated[int, Query(ge=1, le=dlqs.MAX_PEEK)] = 50) -> dlqs.DeadLetters:
    return dlqs.messages(queue, limit)


@router.post("/dlqs/<queue>/redrive", summary="Put one message or every message back on its source queue")
def redrive(queue: str, request: Annotated[RedriveRequest, Body()]) -> dlqs.RedriveResult:
    before = dlqs.depth(queue)
    done = dlqs.redrive(queue, actor(router), message_id=request.message_id)
    _audit("dlq.redrive" if request.message_id is None else "dlq.redrive_one", queue, before, done.left,
           request.note, done.model_dump(mode="json"))
    return done


@router.post("/dlqs/<queue>/purge", summary="Delete every message of a DLQ for good (confirm = the queue's name)")
def purge(queue: str, request: Annotated[PurgeRequest, Body()]) -> dlqs.PurgeResult:
    before = dlqs.depth(queue)
    done = dlqs.purge(queue, request.confirm, actor(router))
    _audit("dlq.purge", queue, before, 0, request.note, done.model_dump(mode="json"))
    return done


@router.post("/exceptions/<exception_id>/redrive",
             summary="Redrive the dead-lettered message of a dead_letter exception (resolves it)")
def redrive_exception(exception_id: str, request: Annotated[ExceptionRedriveRequest, Body()]) -> dlqs.RedriveResult:
    store = WorkflowStore()
    before = store.exception(exception_id)
    detail = before.get("detail") or {}
    if before.get("kind") != "dead_letter" or not detail.get("dead_letter_queue"):
        raise Permanent(f"{exception_id} is a {before.get('kind')} exception: only dead letters are redriven",
                        system="hub", record=exception_id)
    if before.get("status") != "open":
        raise Conflict(f"{exception_id} is {before.get('status')}", system="hub", record=exception_id)
    failure = FailureStore().failure(str(detail["queue"]), str(detail["message_id"])) or {}
    message_id = str(failure.get("dead_letter_message_id") or "")
    if not message_id:
        raise Permanent("the dead-lettered message's id was not recorded: redrive it from its DLQ's messages",
                        system="sqs", record=exception_id)
    done = dlqs.redrive(str(detail["dead_letter_queue"]), actor(router), message_id=message_id)
    after = store.exception(exception_id)
    audit.record(done.actor, "redrive", {**before, "owner": inbox.summary(before).owner}, after, note=request.note,
                 outcome=done.model_dump(mode="json"))
    return done


def run_of(queue: str) -> str:
    """The audit trail of a DLQ is kept as its own run: GET /runs/dlq:<queue> shows it."""
    return f"dlq:{queue}"


def _audit(action: str, queue: str, before: int, after: int, note: str, outcome: dict[str, object]) -> None:
    audit.record(str(outcome["actor"]), action, {"depth": before}, {"depth": after}, note=note, outcome=outcome,
                 correlation_id=run_of(queue))
