"""/quarantine: verified but unmappable webhooks, with their reason and raw body; repaired and replayed once."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import Field

from erphub.operations import audit, inbox, quarantine, quarantine_exceptions
from erphub.operations.routes import StrictRequest, actor
from erphub.operations.routes.exceptions import ActionResult, Note
from erphub.store.workflow_state import WorkflowStore

router = Router()


class ReplayRequest(StrictRequest):
    note: str = Field(default="", max_length=2000, description="kept in the audit trail")


class CorrectedReplayRequest(ReplayRequest):
    event: quarantine.CorrectedEvent = Field(description="the canonical fields; the webhook's own ids are kept")


@router.get("/quarantine", summary="Quarantined webhooks with their reason, oldest first, one page at a time")
def list_quarantined(limit: Annotated[int, Query(ge=1, le=quarantine.MAX_PAGE)] = 50,
                     next_token: Annotated[str | None, Query()] = None,
                     source: Annotated[str | None, Query()] = None) -> quarantine.QuarantinePage:
    return quarantine.list_quarantined(limit, next_token, source)


@router.get("/quarantine/<source>/<source_event_id>", summary="One quarantined webhook with its headers and raw body")
def show(source: str, source_event_id: str) -> quarantine.QuarantinedDetail:
    return quarantine.show(key_of(source, source_event_id))


@router.post("/quarantine/<source>/<source_event_id>/renormalize",
             summary="Map the stored raw body again (after a mapping fix) and replay the event once")
def renormalize(source: str, source_event_id: str,
                request: Annotated[ReplayRequest, Body()]) -> quarantine.ReplayResult:
    key = key_of(source, source_event_id)
    found = quarantine.show(key)
    done = quarantine.renormalize(key, actor(router))
    _audit("quarantine.renormalize", _state(found), done, request.note)
    _resolve_exception(found, done, request.note)
    return done


@router.post("/quarantine/<source>/<source_event_id>/replay",
             summary="Replay the event built from corrected canonical fields, once")
def replay_corrected(source: str, source_event_id: str,
                     request: Annotated[CorrectedReplayRequest, Body()]) -> quarantine.ReplayResult:
    key = key_of(source, source_event_id)
    found = quarantine.show(key)
    done = quarantine.replay_corrected(key, request.event, actor(router))
    _audit("quarantine.replay", _state(found), done, request.note)
    _resolve_exception(found, done, request.note)
    return done


@router.post("/exceptions/<exception_id>/replay",
             summary="Map a quarantine exception's webhook again (after a mapping fix) and replay it once")
def replay_exception(exception_id: str, request: Annotated[Note, Body()]) -> ActionResult:
    done = quarantine_exceptions.replay(exception_id, by=actor(router), note=request.note)
    return ActionResult.model_validate({**done, "outcome": inbox.plain(done["outcome"])})


def key_of(source: str, source_event_id: str) -> str:
    """The inbox key <source>#<vendor event id>, addressed as two path segments ('#' cannot be in a URL path)."""
    return f"{source}#{source_event_id}"


def _state(found: quarantine.QuarantinedDetail) -> dict[str, str]:
    return {"status": found.status, "reason": found.reason, "correlation_id": found.correlation_id}


def _resolve_exception(found: quarantine.QuarantinedDetail, done: quarantine.ReplayResult, note: str) -> None:
    """The replay resolves the webhook's open exception (once: a conditional update), audited on its run."""
    resolution = f"replayed ({done.repair}) by {done.replayed_by}"
    before = quarantine_exceptions.resolve_replayed(found.key, found.model_dump(mode="json"), resolution,
                                                    done.replayed_by)
    if before is not None:
        after = WorkflowStore().exception(before["exception_id"])
        audit.record(done.replayed_by, "replay", before, after, note=note, outcome=done.model_dump(mode="json"))


def _audit(action: str, before: dict[str, str], done: quarantine.ReplayResult, note: str) -> None:
    # the replayed event's correlation id is the run it starts: the audit entry shows on that run and timeline
    audit.record(done.replayed_by, action, {**before, "key": done.key},
                 {"status": "accepted", "correlation_id": done.correlation_id}, note=note,
                 outcome=done.model_dump(mode="json"), correlation_id=done.correlation_id)
