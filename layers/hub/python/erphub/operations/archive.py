"""Replaying canonical events from the bus archive, and running the outbox sweep now.

An archive replay (EventBridge StartReplay) re-delivers the archived events whose time lies in the window to the
rules named in FilterArns. EventBridge matches the window against each event's own time, which the publisher sets
to the business event's `occurred_at` (not when it was published), and a replay cannot filter by event type:
it filters by rule. So the event type picks the rules whose pattern routes it, and every other type those rules
route in the same window is replayed too (`also_replays` says which).

What dedupes a replay (docs/recovery.md): each replayed event keeps its canonical `detail` (same event_id,
business key and version) under a new EventBridge id; the workflow starter names executions business key + version,
so a workflow already started is not started again (ExecutionAlreadyExists, for as long as Step Functions keeps
the execution: 90 days after it closed); ERP postings carry idempotency keys and external ids per invoice and
payment; renewal-risk reactions write the same account fields, collection setting and forecast again, and the
CRM owner task carries an idempotency key per event id. So a replay re-drives what was lost downstream without
duplicating a vendor record (docs/recovery.md lists the limits).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from erphub import aws, publishing
from erphub.errors import Conflict, NotFound, Transient, ValidationFailed
from erphub.observability import logger
from erphub.operations import actor_name, configured

MAX_WINDOW = timedelta(days=31)
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArchiveReplay(BaseModel):
    replay_name: str
    state: str
    event_type: str
    start: datetime
    end: datetime
    rules: list[str] = Field(description="the rules the events are replayed to")
    also_replays: list[str] = Field(description="other event types those rules route, replayed with it")
    actor: str


class ReplayStatus(BaseModel):
    replay_name: str
    state: str
    state_reason: str = ""
    start: datetime | None = None
    end: datetime | None = None
    last_replayed: datetime | None = None


class SweepReport(BaseModel):
    found: int
    published: int
    settled: int = Field(default=0, description="received webhooks the mapping quarantined or ignored, not published")
    skipped: int = Field(description="could not be published: quarantined and reported as exceptions")
    left: int = Field(description="refused by the bus for now: the next sweep tries again")
    complete: bool
    actor: str


def replay(event_type: str, start: datetime, end: datetime, actor: str) -> ArchiveReplay:
    """Replay the archived `event_type` events that occurred in [start, end] through the rules that route it."""
    actor = actor_name(actor)
    start, end = _aware(start), _aware(end)
    if not start < end or end - start > MAX_WINDOW:
        raise ValidationFailed(f"the window must be forward and at most {MAX_WINDOW.days} days", system="events")
    archive = _archive()
    rules = _rules_routing(archive["EventSourceArn"], event_type)
    if not rules:
        raise ValidationFailed(f"no rule of the bus routes {event_type!r}: nothing would receive it", system="events")
    name = _replay_name(event_type)
    try:
        started = aws.client("events").start_replay(
            ReplayName=name, Description=f"{event_type} by {actor}"[:512], EventSourceArn=archive["ArchiveArn"],
            EventStartTime=start, EventEndTime=end,
            Destination={"Arn": archive["EventSourceArn"], "FilterArns": [r["Arn"] for r in rules]})
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("ResourceAlreadyExistsException", "LimitExceededException"):
            raise Conflict(f"replay refused: {exc.response['Error'].get('Message', code)}", system="events") from exc
        raise Transient(f"could not start the replay: {code}", system="events") from exc
    routed = sorted({t for r in rules for t in _detail_types(r)} - {event_type})
    logger.info("archive replay started", extra={"replay": name, "event_type": event_type, "actor": actor})
    return ArchiveReplay(replay_name=name, state=started.get("State", "STARTING"), event_type=event_type, start=start,
                         end=end, rules=[r["Name"] for r in rules], also_replays=routed, actor=actor)


def replay_status(replay_name: str) -> ReplayStatus:
    try:
        found = aws.client("events").describe_replay(ReplayName=replay_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise NotFound(f"no replay {replay_name}", system="events", record=replay_name) from exc
        raise Transient(f"could not read replay {replay_name}", system="events") from exc
    return ReplayStatus(replay_name=replay_name, state=found.get("State", ""),
                        state_reason=found.get("StateReason", ""), start=found.get("EventStartTime"),
                        end=found.get("EventEndTime"), last_replayed=found.get("EventLastReplayedTime"))


def sweep_now(actor: str) -> SweepReport:
    """Map and publish every inbox item still unpublished, however recent (the schedule waits a minute)."""
    actor = actor_name(actor)
    report = publishing.sweep(older_than=timedelta(0))
    logger.info("outbox swept by an operator", extra={"actor": actor, **report})
    return SweepReport(found=report["found"], published=report["published"], settled=report["settled"],
                       skipped=report["skipped"],
                       left=report["left"], complete=bool(report["complete"]), actor=actor)


def _archive() -> dict[str, Any]:
    name = configured("EVENT_ARCHIVE_NAME")
    try:
        return dict(aws.client("events").describe_archive(ArchiveName=name))
    except ClientError as exc:
        raise Transient(f"could not read the archive {name}", system="events", record=name) from exc


def _rules_routing(bus_arn: str, event_type: str) -> list[dict[str, Any]]:
    bus = bus_arn.rsplit("/", 1)[-1]
    rules: list[dict[str, Any]] = []
    try:
        for page in aws.client("events").get_paginator("list_rules").paginate(EventBusName=bus):
            rules += [r for r in page["Rules"] if event_type in _detail_types(r)]
    except ClientError as exc:
        raise Transient(f"could not list the rules of {bus}", system="events") from exc
    return rules


def _detail_types(rule: dict[str, Any]) -> list[str]:
    """The detail-types a rule's pattern names exactly (patterns here list them; other forms match none)."""
    try:
        pattern = json.loads(rule.get("EventPattern") or "{}")
    except ValueError:
        return []
    types = pattern.get("detail-type", []) if isinstance(pattern, dict) else []
    return [t for t in types if isinstance(t, str)]


def _replay_name(event_type: str) -> str:
    """At most 64 of [.-_A-Za-z0-9], unique per start (a replay name cannot be reused)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{_NAME_UNSAFE.sub('-', event_type)[:40]}-{stamp}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
