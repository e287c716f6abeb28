"""Quarantined webhooks: verified events the ack path stored and the publisher's mapping could not map (DESIGN
rule 3). An operator lists them with their reason and raw body, repairs them and replays them into the pipeline once:

- `renormalize`: after a mapping fix is deployed, the stored raw body goes through the source's parser and
  normalizer again, exactly as the publisher maps it (erphub.ingest.mapping; the signature was verified on receipt
  and is not checked again: its timestamp is long past the vendor's tolerance);
- `replay_corrected`: the operator supplies the canonical fields; they are validated against the canonical models
  (EventEnvelope), keeping the webhook's own ids (event_id, source, source_event_id).

Either way the replay is one conditional write (store/quarantine.py): replaying twice, or two operators at
once, replays it once; the loser gets Conflict. The canonical event keeps its deterministic event_id, so the
consumers' dedupe (execution name, idempotency keys) also holds against the original delivery's twin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from erphub import publishing
from erphub.canonical import EventEnvelope, correlation_id_for
from erphub.errors import BadEnvelope, Conflict, Unmappable, ValidationFailed
from erphub.ingest.mapping import MAX_KEY_CHARS, vendor_event
from erphub.observability import logger, metrics
from erphub.operations import actor_name
from erphub.sources import get_source
from erphub.store import inbox, raw_bodies
from erphub.store import quarantine as store

MAX_PAGE = 100
# the item keeps its raw body inline up to INLINE_BODY_LIMIT_BYTES; the event must fit beside it in 400 KB
_ITEM_BUDGET = inbox.MAX_ITEM_BYTES - 16 * 1024


class QuarantinedWebhook(BaseModel):
    key: str = Field(description="the inbox key, <source>#<vendor event id>")
    source: str
    source_event_id: str
    vendor_type: str
    event_id: str
    correlation_id: str
    received_at: datetime
    reason: str


class QuarantinedDetail(QuarantinedWebhook):
    status: str = Field(description="quarantined, or accepted/published once replayed")
    content_type: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    raw_body: str = Field(description="the body as received, UTF-8 (undecodable bytes replaced)")
    raw_ref: str = Field(default="", description="s3:// location when the body was claim-checked")
    replayed_by: str = ""
    replayed_at: datetime | None = None


class QuarantinePage(BaseModel):
    items: list[QuarantinedWebhook]
    next_token: str | None = None


class CorrectedEvent(BaseModel):
    """The canonical fields an operator supplies; event_id, source and source_event_id stay the webhook's own."""

    type: str
    business_key: str = Field(min_length=1, max_length=MAX_KEY_CHARS)
    data: dict[str, Any]
    version: str = "0"
    occurred_at: datetime | None = Field(default=None, description="default: when the webhook was received")
    correlation_id: str | None = Field(default=None, max_length=MAX_KEY_CHARS,
                                       description="default: <data kind>:<source>:<business key>")


class ReplayResult(BaseModel):
    key: str
    event_id: str
    event_type: str
    business_key: str
    correlation_id: str
    repair: Literal["renormalized", "corrected"]
    replayed_by: str
    replayed_at: datetime


def list_quarantined(limit: int = 50, next_token: str | None = None, source: str | None = None) -> QuarantinePage:
    """Oldest first, one page at a time (a source filter may make a page short; follow next_token)."""
    items, token = store.page(max(1, min(limit, MAX_PAGE)), next_token, source)
    return QuarantinePage(items=[QuarantinedWebhook(key=i["pk"], **{k: v for k, v in i.items() if k != "pk"})
                                 for i in items], next_token=token)


def show(key: str) -> QuarantinedDetail:
    return _load(key)[0]


def _load(key: str) -> tuple[QuarantinedDetail, bytes]:
    found = store.item(key)
    body = raw_bodies.read(found["raw_ref"]) if found.get("raw_ref") else bytes(found.get("raw_body") or b"")
    detail = QuarantinedDetail(
        key=key, source=found["source"], source_event_id=found["source_event_id"],
        vendor_type=found.get("vendor_type", ""), event_id=found["event_id"], correlation_id=found["correlation_id"],
        received_at=found["received_at"], reason=found.get("reason", ""), status=found["status"],
        content_type=found.get("content_type", ""), headers=found.get("headers") or {},
        raw_body=body.decode("utf-8", "replace"), raw_ref=found.get("raw_ref", ""),
        replayed_by=found.get("replayed_by", ""), replayed_at=found.get("replayed_at"))
    return detail, body


def renormalize(key: str, actor: str) -> ReplayResult:
    """Map the stored raw body again with the deployed normalizer and replay the event; ValidationFailed (nothing
    changed) if it still cannot be mapped."""
    actor = actor_name(actor)
    detail, body = _quarantined(key)
    source = get_source(detail.source)
    try:
        envelope = source.normalize(vendor_event(source, detail.headers, body, detail.source_event_id,
                                                 detail.received_at))
    except (Unmappable, BadEnvelope) as exc:
        raise ValidationFailed(f"still unmappable: {exc.reason}", system=detail.source, record=key) from exc
    if envelope is None:
        raise ValidationFailed(f"event type {detail.vendor_type!r} is not routed: nothing to replay", record=key)
    return _replay(detail, body, envelope, "renormalized", actor)


def replay_corrected(key: str, corrected: CorrectedEvent, actor: str) -> ReplayResult:
    """Replay the event built from the operator's canonical fields; ValidationFailed lists what the models refuse."""
    actor = actor_name(actor)
    detail, body = _quarantined(key)
    kind = str(corrected.data.get("kind", "event"))
    fields = {"event_id": detail.event_id, "source": detail.source, "source_event_id": detail.source_event_id,
              "type": corrected.type, "business_key": corrected.business_key, "version": corrected.version,
              "occurred_at": corrected.occurred_at or detail.received_at, "data": corrected.data,
              "correlation_id": corrected.correlation_id
              or correlation_id_for(kind, detail.source, corrected.business_key)}
    try:
        envelope = EventEnvelope.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:10])
        raise ValidationFailed(f"the corrected event is not canonical: {problems}", system="hub", record=key) from exc
    return _replay(detail, body, envelope, "corrected", actor)


def _quarantined(key: str) -> tuple[QuarantinedDetail, bytes]:
    detail, body = _load(key)
    if detail.status != inbox.QUARANTINED:
        raise Conflict(f"{key} is {detail.status}, not quarantined (replayed by {detail.replayed_by or 'the hub'})",
                       system="hub", record=key)
    return detail, body


Repair = Literal["renormalized", "corrected"]


def _replay(detail: QuarantinedDetail, body: bytes, envelope: EventEnvelope, repair: Repair,
            actor: str) -> ReplayResult:
    event_json = envelope.model_dump_json()
    inline_body = 0 if detail.raw_ref else len(body)
    if (publishing.entry_bytes(str(envelope.type), event_json) > raw_bodies.MAX_INLINE_EVENT_BYTES
            or inline_body + len(event_json.encode()) > _ITEM_BUDGET):
        claim = raw_bodies.put_event(detail.source, detail.source_event_id, detail.received_at, event_json)
        event_json = raw_bodies.claimed_event(event_json, claim)
    at = store.replay(detail.key, event_json, str(envelope.type), envelope.business_key, envelope.correlation_id,
                      repair, actor)
    metrics.add_metric(name="quarantine_replayed", unit="Count", value=1)
    logger.info("quarantined webhook replayed", extra={"key": detail.key, "repair": repair, "actor": actor,
                                                        "correlation_id": envelope.correlation_id})
    return ReplayResult(key=detail.key, event_id=envelope.event_id, event_type=str(envelope.type),
                        business_key=envelope.business_key, correlation_id=envelope.correlation_id, repair=repair,
                        replayed_by=actor, replayed_at=at)
