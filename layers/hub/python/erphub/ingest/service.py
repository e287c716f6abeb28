"""receive(): the whole ack path of a webhook.

Order matters: every check that can refuse the request runs before the one write, so a refused request
leaves nothing behind, and nothing after the write can lose an accepted one.
"""

from __future__ import annotations

from pydantic import ValidationError

from erphub.canonical import correlation_id_for, event_id_for
from erphub.errors import BadEnvelope, PayloadTooLarge, Unmappable
from erphub.ingest.credentials import source_credentials
from erphub.ingest.receipts import Delivery, Receipt
from erphub.observability import logger, metrics
from erphub.settings import get_settings
from erphub.sources import get_source
from erphub.sources.base import InboundRequest, Source, VendorEvent
from erphub.store import inbox, raw_bodies
from erphub.store.inbox import ACCEPTED, IGNORED, QUARANTINED, InboxItem

# never archived: they carry credentials (basic auth, shared tokens)
_SECRET_HEADER_MARKERS = ("authorization", "cookie", "token", "api-key", "apikey", "secret")


def receive(source_name: str, request: InboundRequest) -> Delivery:
    source = get_source(source_name)
    settings = get_settings()
    if len(request.body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {settings.max_body_bytes}",
                              system=source_name)
    source.verify(request, source_credentials(source_name))
    events = source.parse(request)
    if not events:
        raise BadEnvelope("the delivery holds no events", system=source_name)
    items = [_classify(source, event, request) for event in events]
    duplicates = inbox.store_new(items)
    receipts = [
        Receipt(event_id=i.event_id, correlation_id=i.correlation_id,
                status="duplicate" if i.key in duplicates else i.status)
        for i in items
    ]
    for receipt in receipts:
        metrics.add_metric(name=f"webhook_{receipt.status}", unit="Count", value=1)
    ack = source.acknowledge(events)
    return Delivery(receipts=receipts, ack_content_type=ack[0] if ack else None, ack_body=ack[1] if ack else None)


def _classify(source: Source, event: VendorEvent, request: InboundRequest) -> InboxItem:
    item = InboxItem(
        source=source.name,
        source_event_id=event.vendor_event_id,
        vendor_type=event.vendor_type,
        status=ACCEPTED,
        event_id=event_id_for(source.name, event.vendor_event_id),
        correlation_id=correlation_id_for("event", source.name, event.vendor_event_id),
        received_at=request.received_at,
        raw_body=event.raw,
        content_type=request.headers.get("content-type", ""),
        headers={k: v for k, v in request.headers.items() if not any(m in k for m in _SECRET_HEADER_MARKERS)},
    )
    try:
        envelope = source.normalize(event)
    except Unmappable as exc:
        _quarantine(item, exc.reason)
    except (ValidationError, KeyError, TypeError, ValueError) as exc:
        # a verified event we cannot map is kept for repair, never dropped: the normalizer's gap is ours
        logger.exception("normalizer failed", extra={"source": source.name, "vendor_event_id": event.vendor_event_id})
        _quarantine(item, f"{type(exc).__name__}: {exc}")
    else:
        if envelope is None:
            item.status, item.reason = IGNORED, f"event type {event.vendor_type!r} is not routed"
        else:
            item.event_type, item.business_key = str(envelope.type), envelope.business_key
            item.correlation_id, item.event_json = envelope.correlation_id, envelope.model_dump_json()
    settings = get_settings()
    if len(item.raw_body) > settings.inline_body_limit_bytes:
        item.raw_ref = raw_bodies.put(item.source, item.source_event_id, item.received_at, item.raw_body,
                                      item.content_type)
    return item


def _quarantine(item: InboxItem, reason: str) -> None:
    item.status, item.reason = QUARANTINED, reason
    logger.warning("event quarantined", extra={"key": item.key, "reason": reason})
