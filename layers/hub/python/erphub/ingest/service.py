"""receive(): the whole ack path of a webhook.

Order matters: every check that can refuse the request runs before the one write, so a refused request
leaves nothing behind, and nothing after the write can lose an accepted one.
"""

from __future__ import annotations

from pydantic import ValidationError

from erphub import publishing
from erphub.canonical import correlation_id_for, event_id_for
from erphub.errors import BadEnvelope, PayloadTooLarge, Unmappable
from erphub.ingest.receipts import Delivery, Receipt
from erphub.ingest.webhook_secrets import source_credentials
from erphub.observability import emit, logger, metrics
from erphub.settings import get_settings
from erphub.sources import get_source
from erphub.sources.inbound import InboundRequest, Source, VendorEvent
from erphub.store import inbox, raw_bodies
from erphub.store.inbox import ACCEPTED, IGNORED, QUARANTINED, InboxItem

# archived with the raw body: what a replay or an investigation needs, nothing that carries a credential
# (basic auth, shared tokens), each value capped so a flood of headers cannot push the item past 400 KB
KEPT_HEADERS = ("content-type", "content-encoding", "user-agent", "x-forwarded-for", "stripe-signature",
                "x-hubspot-signature-version", "x-hubspot-request-timestamp", "zuora-notification-id",
                "zuora-request-id", "soapaction")
MAX_HEADER_VALUE_CHARS = 512
# Salesforce sends at most 100 notifications per message, HubSpot at most 100 events per request
MAX_EVENTS_PER_DELIVERY = 100
MAX_VENDOR_TYPE_CHARS = 256
MAX_REASON_CHARS = 1000
MAX_KEY_CHARS = 512
# the inbox item without its raw body and event: keys, states, headers, reason (all bounded above)
_ITEM_BUDGET = inbox.MAX_ITEM_BYTES - 16 * 1024


def receive(source_name: str, request: InboundRequest) -> Delivery:
    source = get_source(source_name)
    settings = get_settings()
    if len(request.body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {settings.max_body_bytes}",
                              system=source_name)
    source.verify(request, source_credentials(source_name))
    events = source.parse(request)
    _check_delivery(source_name, events)
    items = [_classify(source, event, request) for event in events]
    duplicates = inbox.store_new(items)
    receipts = [
        Receipt(event_id=i.event_id, correlation_id=i.correlation_id,
                status="duplicate" if i.key in duplicates else i.status)
        for i in items
    ]
    for receipt in receipts:
        emit("webhooks", source=source_name, status=receipt.status)  # accepted / quarantined / duplicate
    ack = source.acknowledge(events)
    return Delivery(receipts=receipts, ack_content_type=ack[0] if ack else None, ack_body=ack[1] if ack else None)


def _check_delivery(source_name: str, events: list[VendorEvent]) -> None:
    """Refuse (nothing written) what DynamoDB would refuse at write time: keys over 2048 bytes, a batch
    over one transaction's 100 items."""
    if not events:
        raise BadEnvelope("the delivery holds no events", system=source_name)
    if len(events) > MAX_EVENTS_PER_DELIVERY:
        raise PayloadTooLarge(f"the delivery holds {len(events)} events; at most {MAX_EVENTS_PER_DELIVERY}",
                              system=source_name)
    for event in events:
        key_bytes = len(inbox.inbox_key(source_name, event.vendor_event_id).encode("utf-8", "surrogatepass"))
        if key_bytes > inbox.MAX_KEY_BYTES:
            raise BadEnvelope(f"a vendor event id is {key_bytes} bytes with its source; at most "
                              f"{inbox.MAX_KEY_BYTES}", system=source_name)
        if len(event.vendor_type) > MAX_VENDOR_TYPE_CHARS:
            raise BadEnvelope(f"a vendor event type is longer than {MAX_VENDOR_TYPE_CHARS} characters",
                              system=source_name)


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
        content_type=request.headers.get("content-type", "")[:MAX_HEADER_VALUE_CHARS],
        headers=archived_headers(request),
    )
    try:
        envelope = source.normalize(event)
    except Unmappable as exc:
        _quarantine(item, exc.reason)
    except (ValidationError, KeyError, IndexError, TypeError, ValueError, ArithmeticError, OSError,
            RecursionError) as exc:
        # a verified event we cannot map is kept for repair, never dropped: the normalizer's gap is ours
        logger.exception("normalizer failed", extra={"source": source.name, "vendor_event_id": event.vendor_event_id})
        _quarantine(item, f"{type(exc).__name__}: {exc}")
    else:
        if envelope is None:
            item.status, item.reason = IGNORED, f"event type {event.vendor_type!r} is not routed"
        elif max(len(envelope.business_key), len(envelope.correlation_id)) > MAX_KEY_CHARS:
            # they name executions, log keys and index entries; no vendor id is this long
            _quarantine(item, f"business key or correlation id longer than {MAX_KEY_CHARS} characters")
        else:
            item.event_type, item.business_key = str(envelope.type), envelope.business_key
            item.correlation_id, item.event_json = envelope.correlation_id, envelope.to_json()
    _claim_check(item)
    return item


def archived_headers(request: InboundRequest) -> dict[str, str]:
    return {name: request.headers[name][:MAX_HEADER_VALUE_CHARS] for name in KEPT_HEADERS if name in request.headers}


def _claim_check(item: InboxItem) -> None:
    """Keep the item under DynamoDB's 400 KB and the event under EventBridge's 256 KB: the raw body goes to
    S3 when it is large or the item would be; an event too large for the bus goes to S3 and the item keeps
    its envelope with a claim check instead of its data."""
    event_bytes = len(item.event_json.encode())
    oversize_event = bool(item.event_json) and publishing.entry_bytes(item.event_type, item.event_json) > (
        publishing.MAX_INLINE_EVENT_BYTES)
    if oversize_event:
        claim = raw_bodies.put_event(item.source, item.source_event_id, item.received_at, item.event_json)
        item.event_json = raw_bodies.claimed_event(item.event_json, claim)
        event_bytes = len(item.event_json.encode())
        metrics.add_metric(name="events_claim_checked", unit="Count", value=1)
    inline_limit = min(get_settings().inline_body_limit_bytes, _ITEM_BUDGET - event_bytes)
    if len(item.raw_body) > inline_limit:
        item.raw_ref = raw_bodies.put(item.source, item.source_event_id, item.received_at, item.raw_body,
                                      item.content_type)


def _quarantine(item: InboxItem, reason: str) -> None:
    reason = reason if len(reason) <= MAX_REASON_CHARS else reason[:MAX_REASON_CHARS] + "..."
    item.status, item.reason = QUARANTINED, reason
    logger.warning("event quarantined", extra={"key": item.key, "reason": reason})
