"""A received webhook mapped into the canonical model, after its ack (DESIGN rules 3 and 4).

The ack path verifies each vendor event, stores it raw (status `received`) and answers. The publisher, and the
outbox sweeper for what the stream path missed, map it here: into its canonical event (then published), into
quarantine when its business content cannot be mapped (kept for repair and replay, an owned exception), or into
ignored when the hub does not route its type. The webhook function so imports neither pydantic nor the canonical
models (~70 ms of its cold start), and a normalizer's bug can never cost a vendor its 2xx.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from erphub import publishing
from erphub.errors import BadEnvelope, HubError, Unmappable
from erphub.observability import emit_safely, logger, metrics
from erphub.operations import quarantine_exceptions
from erphub.publishing import Pending
from erphub.sources import get_source
from erphub.sources.inbound import Headers, InboundRequest, Source, VendorEvent
from erphub.store import inbox, raw_bodies

MAX_REASON_CHARS = 1000
MAX_KEY_CHARS = 512  # a business key or correlation id names executions, log keys and index entries
# what publishing adds to an item besides its event: type, business key and correlation id (each at most
# MAX_KEY_CHARS), lookup, status, published_at, with their names
_PUBLISHED_ATTRIBUTES_BYTES = 4 * 1024
# a normalizer's own failure (not Unmappable): the event is kept for repair, never dropped
_MAPPING_FAILURES = (KeyError, IndexError, TypeError, ValueError, ArithmeticError, OSError, RecursionError)


@dataclass(frozen=True)
class Mapped:
    """What a received item became: `inbox.ACCEPTED` with its canonical event, or quarantined / ignored with why."""

    status: str
    reason: str = ""
    event_json: str = ""
    event_type: str = ""
    business_key: str = ""
    correlation_id: str = ""

    def kept(self) -> dict[str, str]:
        """What the inbox item keeps of an accepted event once it is published."""
        return {"event": self.event_json, "event_type": self.event_type, "business_key": self.business_key,
                "correlation_id": self.correlation_id}


def to_publish(item: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Map one received item (its attribute values, as a stream image or a read gives them) and settle it: the
    event JSON for the bus and the whole item as it is once published (store.inbox.mark_published writes it back),
    or None when it was quarantined or ignored instead. The publisher's stream path and the sweeper both use it."""
    if isinstance(raw := item.get("raw_body", {}).get("B"), str):  # a stream image carries binaries in base64
        item = {**item, "raw_body": {"B": base64.b64decode(raw)}}
    mapped = map_received(item)
    settle(text_values(item), mapped)
    if mapped.status != inbox.ACCEPTED:
        return None
    return mapped.event_json, inbox.published_item(item, mapped.kept())


def vendor_event(source: Source, headers: dict[str, str], body: bytes, source_event_id: str,
                 received_at: datetime) -> VendorEvent:
    """The stored raw body parsed again into the one vendor event it was stored for (its signature was verified on
    receipt and is not checked again); BadEnvelope if it no longer holds it."""
    request = InboundRequest(method="POST", url="", headers=Headers(headers), body=body, received_at=received_at)
    event = next((e for e in source.parse(request) if e.vendor_event_id == source_event_id), None)
    if event is None:
        raise BadEnvelope(f"the stored body no longer holds event {source_event_id}", system=source.name)
    return event


def pending_from_stream(records: list[dict[str, Any]]) -> tuple[list[Pending], str | None]:
    """The publisher's share of an inbox stream batch (NEW_IMAGEs of waiting items), in stream order: received items
    are mapped, quarantined and ignored ones settled at once; accepted ones go as they are. Returns what to publish,
    up to the first item that could not be mapped or settled now, and that item's position (None: all done); the
    stream retries from there."""
    pending: list[Pending] = []
    for record in records:
        image, position = record["dynamodb"]["NewImage"], str(record["dynamodb"]["SequenceNumber"])
        key, status = image["pk"]["S"], image["status"]["S"]
        try:
            if status == inbox.QUARANTINED:  # an INSERT of a release that mapped on the ack path: its exception
                item = text_values(image)
                quarantine_exceptions.open_for(item, item.get("reason", "quarantined"))
            elif status != inbox.RECEIVED:
                pending.append(Pending(position, key, image["event"]["S"]))
            elif published := to_publish(image):
                pending.append(Pending(position, key, *published))
        except HubError:
            logger.exception("could not map a received webhook", extra={"key": key, "position": position})
            return pending, position
    return pending, None


def text_values(item: dict[str, Any]) -> dict[str, str]:
    """An item's text attributes as plain values."""
    return {name: value["S"] for name, value in item.items() if "S" in value}


def map_received(item: dict[str, Any]) -> Mapped:
    """Map one received inbox item (its DynamoDB attribute values, the raw body as bytes)."""
    plain = text_values(item)
    key, source_name = plain["pk"], plain["source"]
    try:
        source = get_source(source_name)
        body = raw_bodies.read(plain["raw_ref"]) if plain.get("raw_ref") else bytes(item["raw_body"]["B"])
        headers = {name: value["S"] for name, value in item.get("headers", {}).get("M", {}).items()}
        event = vendor_event(source, headers, body, plain["source_event_id"],
                             datetime.fromisoformat(plain["received_at"]))
        envelope = source.normalize(event)
    except (Unmappable, BadEnvelope) as exc:
        return _quarantined(key, exc.reason)
    except _MAPPING_FAILURES as exc:
        logger.exception("normalizer failed", extra={"key": key})
        return _quarantined(key, f"{type(exc).__name__}: {exc}")
    if envelope is None:
        return Mapped(inbox.IGNORED, reason=f"event type {plain.get('vendor_type', '')!r} is not routed")
    if max(len(envelope.business_key), len(envelope.correlation_id)) > MAX_KEY_CHARS:
        return _quarantined(key, f"business key or correlation id longer than {MAX_KEY_CHARS} characters")
    # the item holds it beside the raw body (the ack path keeps a body inline only if the largest inline event fits)
    event_json = _claim_checked(plain, envelope.to_json(), str(envelope.type), inbox.item_bytes(item))
    return Mapped(inbox.ACCEPTED, event_json=event_json, event_type=str(envelope.type),
                  business_key=envelope.business_key, correlation_id=envelope.correlation_id)


def settle(item: dict[str, str], mapped: Mapped) -> None:
    """Count the outcome, and record a quarantined or ignored one on its item (`text_values` of it); a quarantine first
    opens its owned exception, once. Idempotent: a retried batch settles the same item again. (An accepted outcome
    is recorded with the event, once it is published.)"""
    if mapped.status == inbox.QUARANTINED:
        quarantine_exceptions.open_for(item, mapped.reason)  # once: a retry finds it opened (or closed by a replay)
        done = inbox.mark_quarantined(item["pk"], mapped.reason, expected=(inbox.RECEIVED,))
    elif mapped.status == inbox.IGNORED:
        done = inbox.mark_ignored(item["pk"], mapped.reason)
    else:
        return  # counted once published (erphub.publishing)
    if done:  # not a retried record of an item settled (or replayed) since
        emit_safely("webhook_outcomes", source=item["source"], status=mapped.status)


def _claim_checked(item: dict[str, str], event_json: str, event_type: str, item_bytes: int) -> str:
    """The event as the bus carries it and the item keeps it: by claim check (S3) when it is over the bus's entry
    limit, or would not fit in the item (`item_bytes` as received; the attributes published adds are bounded)."""
    fits_item = item_bytes + len(event_json.encode()) + _PUBLISHED_ATTRIBUTES_BYTES <= inbox.MAX_ITEM_BYTES
    if fits_item and publishing.entry_bytes(event_type, event_json) <= raw_bodies.MAX_INLINE_EVENT_BYTES:
        return event_json
    claim = raw_bodies.put_event(item["source"], item["source_event_id"], datetime.fromisoformat(item["received_at"]),
                                 event_json)
    metrics.add_metric(name="events_claim_checked", unit="Count", value=1)
    return raw_bodies.claimed_event(event_json, claim)


def _quarantined(key: str, reason: str) -> Mapped:
    reason = reason if len(reason) <= MAX_REASON_CHARS else reason[:MAX_REASON_CHARS] + "..."
    logger.warning("event quarantined", extra={"key": key, "reason": reason})
    return Mapped(inbox.QUARANTINED, reason=reason)
