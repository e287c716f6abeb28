"""/archive-replays and /outbox/sweep: re-deliver archived canonical events, publish the outbox now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import Field

from erphub.operations import archive, audit
from erphub.operations.routes import StrictRequest, actor

router = Router()
OUTBOX_RUN = "outbox"  # the audit trail of operator sweeps: GET /runs/outbox


class ArchiveReplayRequest(StrictRequest):
    event_type: str = Field(min_length=1, max_length=200, description="e.g. crm.opportunity.closed_won")
    start: datetime = Field(description="the window's start, matched against each event's occurred_at")
    end: datetime
    note: str = Field(default="", max_length=2000)


class SweepRequest(StrictRequest):
    note: str = Field(default="", max_length=2000)


@router.post("/archive-replays", summary="Replay one event type's archived events of a time window (StartReplay)")
def start_replay(request: Annotated[ArchiveReplayRequest, Body()]) -> archive.ArchiveReplay:
    started = archive.replay(request.event_type, request.start, request.end, actor(router))
    audit.record(started.actor, "archive.replay", {}, {"state": started.state}, note=request.note,
                 outcome=started.model_dump(mode="json"), correlation_id=run_of(started.event_type))
    return started


@router.get("/archive-replays/<replay_name>", summary="Where an archive replay stands")
def replay_status(replay_name: str) -> archive.ReplayStatus:
    return archive.replay_status(replay_name)


@router.post("/outbox/sweep", summary="Publish every accepted webhook not yet published, now")
def sweep(request: Annotated[SweepRequest, Body()]) -> archive.SweepReport:
    report = archive.sweep_now(actor(router))
    audit.record(report.actor, "outbox.sweep", {}, {}, note=request.note, outcome=report.model_dump(mode="json"),
                 correlation_id=OUTBOX_RUN)
    return report


def run_of(event_type: str) -> str:
    """The audit trail of replays of one event type: GET /runs/archive:<event type> shows it."""
    return f"archive:{event_type}"
