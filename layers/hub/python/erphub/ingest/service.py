"""receive(): the whole ack path of a webhook.

Order matters: every check that can refuse the request runs before the one write, so a refused request
leaves nothing behind, and nothing after the write can lose an accepted one.
"""

from __future__ import annotations

from erphub.errors import BadEnvelope, PayloadTooLarge
from erphub.event_ids import correlation_id_for, event_id_for
from erphub.ingest.receipts import Delivery, Receipt
from erphub.ingest.webhook_secrets import source_credentials
from erphub.observability import emit
from erphub.settings import get_settings
from erphub.sources import get_source
from erphub.sources.inbound import InboundRequest, Source, VendorEvent
from erphub.store import inbox, raw_bodies
from erphub.store.inbox import RECEIVED, InboxItem

# archived with the raw body: what a replay or an investigation needs, nothing that carries a credential
# (basic auth, shared tokens), each value capped so a flood of headers cannot push the item past 400 KB
KEPT_HEADERS = ("content-type", "content-encoding", "user-agent", "x-forwarded-for", "stripe-signature",
                "x-hubspot-signature-version", "x-hubspot-request-timestamp", "zuora-notification-id",
                "zuora-request-id", "soapaction")
MAX_HEADER_VALUE_CHARS = 512
# Salesforce sends at most 100 notifications per message, HubSpot at most 100 events per request
MAX_EVENTS_PER_DELIVERY = 100
MAX_VENDOR_TYPE_CHARS = 256
# a raw body stays inline in its item up to this size: the item must later hold the canonical event beside it (up to
# the bus's entry limit; a larger one goes by claim check) and its keys, states and headers (all bounded above)
MAX_INLINE_BODY_BYTES = inbox.MAX_ITEM_BYTES - 16 * 1024 - raw_bodies.MAX_INLINE_EVENT_BYTES


def receive(source_name: str, request: InboundRequest) -> Delivery:
    source = get_source(source_name)
    settings = get_settings()
    if len(request.body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {settings.max_body_bytes}",
                              system=source_name)
    source.verify(request, source_credentials(source_name))
    events = source.parse(request)
    _check_delivery(source_name, events)
    items = [_received(source, event, request) for event in events]
    duplicates = inbox.store_new(items)
    receipts = [
        Receipt(event_id=i.event_id, correlation_id=i.correlation_id,
                status="duplicate" if i.key in duplicates else "accepted")
        for i in items
    ]
    for receipt in receipts:
        emit("webhooks", source=source_name, status=receipt.status)  # accepted / duplicate
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


def _received(source: Source, event: VendorEvent, request: InboundRequest) -> InboxItem:
    """The event as the inbox keeps it until the publisher maps it (erphub.ingest.mapping): raw, with its ids."""
    item = InboxItem(
        source=source.name,
        source_event_id=event.vendor_event_id,
        vendor_type=event.vendor_type,
        status=RECEIVED,
        event_id=event_id_for(source.name, event.vendor_event_id),
        correlation_id=correlation_id_for("event", source.name, event.vendor_event_id),
        received_at=request.received_at,
        raw_body=event.raw,
        content_type=request.headers.get("content-type", "")[:MAX_HEADER_VALUE_CHARS],
        headers=archived_headers(request),
    )
    if len(item.raw_body) > min(get_settings().inline_body_limit_bytes, MAX_INLINE_BODY_BYTES):
        # the raw body goes to S3 when it is large, or the item would be with its event (DynamoDB's 400 KB)
        item.raw_ref = raw_bodies.put(item.source, item.source_event_id, item.received_at, item.raw_body,
                                      item.content_type)
    return item


def archived_headers(request: InboundRequest) -> dict[str, str]:
    return {name: request.headers[name][:MAX_HEADER_VALUE_CHARS] for name in KEPT_HEADERS if name in request.headers}
