"""Puts canonical events on the bus, in order, and marks their inbox items published.

At-least-once by construction: an event is marked only after the bus took it, so a crash in between
publishes it again (consumers dedupe on the deterministic event_id; executions on their name). Within
one batch, the first failure stops the batch, so nothing after it is sent twice when the stream retries.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import HubError
from erphub.observability import emit_safely, logger, metrics
from erphub.settings import get_settings
from erphub.store import inbox
from erphub.store.raw_bodies import MAX_ENTRY_BYTES

EVENT_SOURCE = "erphub"
_ENTRIES_PER_CALL = 10
SWEEP_BUDGET = timedelta(seconds=45)
# keys read, mapped and published at a time: an index page holds up to ~10,000 keys, each item up to 400 KB, and
# the budget is checked between chunks
_SWEEP_CHUNK = 100
UNPUBLISHABLE_KIND = "outbox_unpublishable"
_TRANSIENT_ENTRY_ERRORS = {"InternalFailure", "ThrottlingException"}
_PERMANENT_CALL_ERRORS = {"ValidationException"}
_MARKERS = 8


def entry_bytes(detail_type: str, detail: str) -> int:
    """The size EventBridge counts for one of our entries (they carry a Time and no Resources)."""
    return _entry_size({"Time": True, "Source": EVENT_SOURCE, "DetailType": detail_type, "Detail": detail})


@dataclass(frozen=True)
class Pending:
    """One inbox item to publish; `position` is what the caller reports back on failure; `published_item` is the
    whole item as it is once published, when the publisher mapped it (store.inbox.published_item)."""

    position: str
    key: str
    event_json: str
    published_item: dict[str, Any] | None = None


def publish_in_order(pending: Iterable[Pending]) -> str | None:
    """Publish all, in order; returns the position of the first one that failed (None: all on the bus).

    Items another path has published meanwhile (the sweeper, an earlier attempt) are skipped.
    """
    items = list(pending)
    waiting = inbox.still_waiting([p.key for p in items]) if items else {}
    # an item mapped from a received image is published only while it is still received: a retried stream record
    # of an item an operator has replayed since (accepted) must not put the old mapping on the bus
    ready = [p for p in items
             if waiting.get(p.key) == inbox.RECEIVED or (p.key in waiting and p.published_item is None)]
    metrics.add_metric(name="events_already_published", unit="Count", value=len(items) - len(ready))
    items = ready
    for start in range(0, len(items), _ENTRIES_PER_CALL):
        chunk = items[start : start + _ENTRIES_PER_CALL]
        failed = _put_events(chunk)
        _mark_all([(item.key, item.published_item) for item in chunk[: failed if failed is not None else len(chunk)]])
        if failed is not None:
            return chunk[failed].position
    return None


def sweep(older_than: timedelta, budget: timedelta = SWEEP_BUDGET) -> dict[str, int]:
    """The outbox backstop: publish every waiting item the stream path left unpublished, 100 at a time; a received
    one is mapped first (erphub.ingest.mapping), so it may be settled as quarantined or ignored instead.

    An item that cannot be published (malformed, too large for the bus, refused for good) is skipped: it is
    reported as an exception and quarantined for repair and replay, and the rest goes on. An item the bus
    refuses for now (throttled, failing) stays in the backlog for the next run. Stops paging after `budget`.
    """
    report = {"found": 0, "published": 0, "settled": 0, "skipped": 0, "left": 0, "complete": 1}
    deadline = time.monotonic() + budget.total_seconds()
    chunks = (page[start : start + _SWEEP_CHUNK] for page in inbox.unpublished_pages(older_than)
              for start in range(0, len(page), _SWEEP_CHUNK))
    for keys in chunks:
        if time.monotonic() > deadline:
            report["complete"] = 0
            break
        report["found"] += len(keys)
        _sweep_page(keys, report)
    logger.info("outbox sweep", extra=report)
    metrics.add_metric(name="outbox_swept", unit="Count", value=report["published"])
    metrics.add_metric(name="outbox_unpublishable", unit="Count", value=report["skipped"])
    return report


def _sweep_page(keys: list[str], report: dict[str, int]) -> None:
    events, published = _waiting_events(inbox.waiting_items(keys), report)  # items published meanwhile are left out
    ready: list[tuple[str, dict[str, Any]]] = []
    for key in (k for k in keys if k in events):
        try:
            entry = _entry(events[key])
            if (size := _entry_size(entry)) > MAX_ENTRY_BYTES:
                raise ValueError(f"the event is {size} bytes, over the bus's 256 KB entry limit")
        except (ValueError, KeyError, TypeError) as exc:
            report["skipped" if _skip(key, events[key], exc) else "left"] += 1
            continue
        ready.append((key, entry))
    for chunk in _calls(ready):
        outcomes = _put_each(chunk)
        on_bus = [key for key, refusal in outcomes.items() if refusal is None]
        _mark_all([(key, published.get(key)) for key in on_bus])
        report["published"] += len(on_bus)
        for key, refusal in outcomes.items():
            if refusal:
                report["skipped" if _skip(key, events[key], ValueError(refusal)) else "left"] += 1
            elif refusal == "":
                report["left"] += 1


def _calls(ready: list[tuple[str, dict[str, Any]]]) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """PutEvents calls of at most 10 entries and 256 KB."""
    chunk: list[tuple[str, dict[str, Any]]] = []
    for item in ready:
        if chunk and (len(chunk) == _ENTRIES_PER_CALL
                      or sum(_entry_size(e) for _, e in chunk) + _entry_size(item[1]) > MAX_ENTRY_BYTES):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def _put_each(chunk: list[tuple[str, dict[str, Any]]]) -> dict[str, str | None]:
    """Key -> None (on the bus), "" (refused for now: retry later) or why the bus refuses it for good.
    A call the bus refuses as a whole is retried entry by entry, so one bad entry cannot hold the others."""
    try:
        response = aws.client("events").put_events(Entries=[entry for _, entry in chunk])
    except ClientError as exc:
        error = exc.response["Error"]
        logger.warning("put_events failed", extra={"keys": len(chunk), "error": error.get("Code")})
        if error.get("Code") not in _PERMANENT_CALL_ERRORS:  # throttled, unavailable: all wait for the next run
            return dict.fromkeys((key for key, _ in chunk), "")
        if len(chunk) > 1:
            return {key: outcome for item in chunk for key, outcome in _put_each([item]).items()}
        return {chunk[0][0]: f"{error.get('Code')}: {error.get('Message', '')}"}
    outcomes: dict[str, str | None] = {}
    for (key, _), result in zip(chunk, response["Entries"], strict=False):
        code = result.get("ErrorCode")
        outcomes[key] = None if not code else "" if code in _TRANSIENT_ENTRY_ERRORS \
            else f"{code}: {result.get('ErrorMessage', '')}"
    metrics.add_metric(name="events_published", unit="Count", value=sum(o is None for o in outcomes.values()))
    return outcomes


def _skip(key: str, event_json: str, error: Exception) -> bool:
    """Report an item that cannot be published as an exception and take it out of the backlog (quarantined,
    kept for repair and replay). False when that could not be done now: the item stays for the next run."""
    from erphub.store.workflow_state import WorkflowStore  # only the sweeper reports exceptions

    reason = f"cannot be published: {type(error).__name__}: {error}"[:1000]
    try:
        correlation_id = str(json.loads(event_json)["correlation_id"])
    except (ValueError, KeyError, TypeError):
        correlation_id = key
    try:
        exception_id = WorkflowStore().open_exception(
            correlation_id, "outbox", UNPUBLISHABLE_KIND, reason, seed=f"outbox:{key}",
            detail={"inbox_key": key, "error": type(error).__name__, "event_bytes": len(event_json.encode())})
        inbox.mark_quarantined(key, reason)
    except HubError:
        logger.exception("could not report an unpublishable item", extra={"key": key})
        return False
    logger.warning("unpublishable inbox item skipped", extra={"key": key, "exception_id": exception_id,
                                                               "reason": reason})
    return True


def _entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against its 256 KB limit (per entry and per PutEvents call)."""
    size = 14 if entry.get("Time") else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name) or "").encode())
    return size + sum(len(str(r).encode()) for r in entry.get("Resources") or [])


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


def _mark_all(published: list[tuple[str, dict[str, Any] | None]]) -> None:
    """Mark events the bus took (key, the whole item of a mapped one): one write each, in parallel (the bus already
    has them, so their order does not matter); each in a copy of this context, which carries per-invocation state."""
    if len(published) < 2:
        for key, item in published:
            _mark(key, item)
        return
    with ThreadPoolExecutor(max_workers=min(_MARKERS, len(published))) as pool:
        for done in [pool.submit(contextvars.copy_context().run, _mark, key, item) for key, item in published]:
            done.result()


def _mark(key: str, item: dict[str, Any] | None) -> None:
    try:
        if inbox.mark_published(key, item) and item is not None:  # a mapped webhook's outcome, counted once
            emit_safely("webhook_outcomes", source=item["source"]["S"], status=inbox.ACCEPTED)
    except HubError:
        # the event is on the bus; an unmarked item is only republished later, which consumers tolerate
        logger.exception("could not mark published", extra={"key": key})


def _waiting_events(items: dict[str, dict[str, Any]],
                    report: dict[str, int]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Key -> event JSON of the waiting items the bus can take, and key -> the whole item of each mapped one once
    published: received items are mapped first (quarantined and ignored ones are settled, not published: `settled`
    in the report)."""
    from erphub.ingest import mapping  # the mapping imports this module

    events: dict[str, str] = {}
    published: dict[str, dict[str, Any]] = {}
    for key, item in items.items():
        if item["status"]["S"] != inbox.RECEIVED:
            events[key] = item.get("event", {}).get("S", "")
            continue
        try:
            mapped = mapping.to_publish(item)
        except HubError:  # S3 or DynamoDB failing now: the item stays in the backlog for the next run
            logger.exception("could not map a received webhook", extra={"key": key})
            report["left"] += 1
            continue
        if mapped is None:
            report["settled"] += 1
        else:
            events[key], published[key] = mapped
    return events, published
