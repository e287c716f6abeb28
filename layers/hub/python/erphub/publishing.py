"""Puts canonical events on the bus, in order, and marks their inbox items published.

At-least-once by construction: an event is marked only after the bus took it, so a crash in between
publishes it again (consumers dedupe on the deterministic event_id; executions on their name). Within
one batch, the first failure stops the batch, so nothing after it is sent twice when the stream retries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import HubError
from erphub.observability import logger, metrics
from erphub.settings import get_settings
from erphub.store import inbox

EVENT_SOURCE = "erphub"
_ENTRIES_PER_CALL = 10
# EventBridge takes entries of at most 256 KB, counted as its PutEvents size rule says (Time 14 bytes, then
# the UTF-8 bytes of Source, DetailType, Detail and each Resource). Events over MAX_INLINE_EVENT_BYTES travel
# by claim check (erphub.store.raw_bodies); the headroom keeps the delivered event (EventBridge's own
# envelope around the detail) within the 256 KB an SQS message or a Step Functions input may hold.
MAX_ENTRY_BYTES = 256 * 1024
MAX_INLINE_EVENT_BYTES = MAX_ENTRY_BYTES - 2048


def entry_bytes(detail_type: str, detail: str) -> int:
    """The size EventBridge counts for one of our entries (no Resources)."""
    return 14 + len(EVENT_SOURCE) + len(detail_type.encode()) + len(detail.encode())


@dataclass(frozen=True)
class Pending:
    """One inbox item to publish; `position` is what the caller reports back on failure."""

    position: str
    key: str
    event_json: str


def publish_in_order(pending: Iterable[Pending]) -> str | None:
    """Publish all, in order; returns the position of the first one that failed (None: all on the bus).

    Items another path has published meanwhile (the sweeper, an earlier attempt) are skipped.
    """
    items = list(pending)
    waiting = inbox.still_accepted([p.key for p in items]) if items else set()
    metrics.add_metric(name="events_already_published", unit="Count", value=len(items) - len(waiting))
    items = [p for p in items if p.key in waiting]
    for start in range(0, len(items), _ENTRIES_PER_CALL):
        chunk = items[start : start + _ENTRIES_PER_CALL]
        failed = _put_events(chunk)
        for item in chunk[: failed if failed is not None else len(chunk)]:
            _mark(item.key)
        if failed is not None:
            return chunk[failed].position
    return None


def sweep(older_than: timedelta) -> dict[str, int]:
    """The outbox backstop: publish accepted items the stream path left unpublished."""
    keys = inbox.unpublished_keys(older_than)
    events = inbox.accepted_events(keys)
    pending = [Pending(key, key, events[key]) for key in keys if key in events]
    first_failure = publish_in_order(pending)
    left = 0 if first_failure is None else len(pending) - [p.key for p in pending].index(first_failure)
    report = {"found": len(keys), "published": len(pending) - left, "left": left}
    logger.info("outbox sweep", extra=report)
    metrics.add_metric(name="outbox_swept", unit="Count", value=report["published"])
    return report


def _put_events(chunk: list[Pending]) -> int | None:
    """Index of the first entry the bus refused, or None if it took them all."""
    entries = [_entry(p.event_json) for p in chunk]
    try:
        response = aws.client("events").put_events(Entries=entries)
    except ClientError as exc:
        logger.warning("put_events failed", extra={"error": exc.response["Error"]["Code"]})
        metrics.add_metric(name="publish_failed", unit="Count", value=len(chunk))
        return 0
    if response.get("FailedEntryCount", 0):
        for index, result in enumerate(response["Entries"]):
            if result.get("ErrorCode"):
                logger.warning("event refused by the bus", extra={"key": chunk[index].key, **result})
                metrics.add_metric(name="publish_failed", unit="Count", value=len(chunk) - index)
                return index
    metrics.add_metric(name="events_published", unit="Count", value=len(chunk))
    return None


def _entry(event_json: str) -> dict[str, object]:
    event = json.loads(event_json)
    return {
        "EventBusName": get_settings().event_bus_name,
        "Source": EVENT_SOURCE,
        "DetailType": event["type"],
        "Detail": event_json,
        "Time": datetime.fromisoformat(event["occurred_at"]),
        "Resources": [],
    }


def _mark(key: str) -> None:
    try:
        inbox.mark_published(key)
    except HubError:
        # the event is on the bus; an unmarked item is only republished later, which consumers tolerate
        logger.exception("could not mark published", extra={"key": key})


def pending_from_stream(records: list[dict[str, Any]]) -> list[Pending]:
    """Inbox stream records (NEW_IMAGE of accepted items) in stream order."""
    return [
        Pending(
            position=r["dynamodb"]["SequenceNumber"],
            key=r["dynamodb"]["Keys"]["pk"]["S"],
            event_json=r["dynamodb"]["NewImage"]["event"]["S"],
        )
        for r in records
    ]
