"""Outbound vendor calls, counted per system and hour in the KPI table: the source of the API error rates.

Every HTTP attempt a connector makes (connectors/http.py) is counted in one counter item:

  CALLS#<YYYY-MM-DD>, <YYYY-MM-DDTHH>#<vendor>   calls, errors, throttles, `error:<TypedError>`, `http:<class>`

Atomic ADDs keep the figures exact without a per-call record; the day partition keeps the report to one Query per
day. A handler wrapped in `per_invocation` (the adapters, the sync API) keeps its invocation's counts in memory and
writes them once when the invocation ends, whatever its outcome: one UpdateItem per counter item touched, instead
of one per attempt. Lambda freezes or stops the process after an invocation, so nothing is kept across
invocations, and an invocation close to its timeout writes at once what it counted so far. Outside such a handler
(scripts, tests calling a connector) each attempt is written at once. Counting is observation, never part of the
call: a failed write is logged and measured (`vendor_calls_uncounted`) and the call or invocation goes on.
Only functions given KPI_TABLE count (the four adapter Lambdas, through which the workflows, the ERP posting and
reconciliation reach every vendor); elsewhere `record` does nothing.
"""

from __future__ import annotations

import contextvars
import functools
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from erphub import aws
from erphub.errors import HubError, RateLimited
from erphub.observability import emit_safely, logger
from erphub.settings import get_settings
from erphub.store.tables import from_item, translated

# the time one flush may take: an invocation with less than this (plus its next attempt) left writes at once
FLUSH_SECONDS = 1.0

CounterItem = tuple[str, str, str]  # table, pk, sk
Handler = TypeVar("Handler", bound=Callable[..., Any])


class Tally:
    """One invocation's counts per counter item, until written. Locked: a connector may call from threads."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline  # time.monotonic() at which Lambda stops the invocation, when known
        self._counts: dict[CounterItem, Counter[str]] = {}
        self._lock = threading.Lock()

    def add(self, item: CounterItem, adds: dict[str, int]) -> None:
        with self._lock:
            self._counts.setdefault(item, Counter()).update(adds)

    def take(self) -> dict[CounterItem, Counter[str]]:
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def short_of_time(self, reserve: float) -> bool:
        return self.deadline is not None and self.deadline - time.monotonic() < reserve + FLUSH_SECONDS


_tally: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("vendor_call_tally", default=None)


def status_class(outcome: HubError) -> str:
    """The HTTP class of a failed attempt (`4xx`, `5xx`), or `network` when no answer came (timeout, refused)."""
    status = getattr(outcome, "status", None)
    return f"{int(status) // 100}xx" if status else "network"


def record(vendor: str, outcome: Any, moment: datetime | None = None, reserve: float = 0.0) -> None:
    """Count one attempt: a response is a call; a typed error is also an error (and a 429 a throttle).
    `reserve`: the seconds the caller's next attempt may take (a tally that could not wait that long is flushed)."""
    table = get_settings().kpi_table
    if not table:
        return
    moment = moment or datetime.now(UTC)
    item = (table, f"CALLS#{moment.date().isoformat()}", f"{moment.strftime('%Y-%m-%dT%H')}#{vendor}")
    adds = {"calls": 1}
    if isinstance(outcome, HubError):
        adds |= {"errors": 1, f"error:{type(outcome).__name__}": 1, f"http:{status_class(outcome)}": 1}
        if isinstance(outcome, RateLimited):
            adds["throttles"] = 1
    tally = _tally.get()
    if tally is None:
        _write(item, adds)
        return
    tally.add(item, adds)
    if tally.short_of_time(reserve):
        flush(tally)


@contextmanager
def batched(deadline: float | None = None) -> Iterator[Tally]:
    """Count the attempts made inside in memory and write them when the block ends, however it ends."""
    tally = Tally(deadline)
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)
        flush(tally)


def per_invocation(handler: Handler) -> Handler:
    """A Lambda handler whose vendor calls are counted with one write per counter item at the invocation's end."""

    @functools.wraps(handler)
    def counted(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        with batched(time.monotonic() + remaining() / 1000 if callable(remaining) else None):
            return handler(event, context, *args, **kwargs)

    return counted  # type: ignore[return-value]


def flush(tally: Tally) -> None:
    """Write what the tally holds, one UpdateItem per counter item; never raises."""
    for item, adds in tally.take().items():
        _write(item, adds)


def _write(item: CounterItem, adds: dict[str, int]) -> None:
    table, pk, sk = item
    names = {f"#c{i}": name for i, name in enumerate(adds)}
    try:
        aws.client("dynamodb").update_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(adds))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":c{i}": {"N": str(n)} for i, n in enumerate(adds.values())})
    except Exception as exc:  # whatever fails here, the vendor calls it observes (and their invocation) go on
        logger.warning("vendor call not counted", extra={"counter": sk, "counts": dict(adds), "error": repr(exc)})
        emit_safely("vendor_calls_uncounted", adds.get("calls", 0))


def error_rates(ddb: Any, table: str, since: datetime, until: datetime) -> dict[str, dict[str, Any]]:
    """Per vendor, the hours from `since`'s to `until`'s: calls, errors, error_rate, throttles, by_error, by_http."""
    first, last = since.strftime("%Y-%m-%dT%H"), until.strftime("%Y-%m-%dT%H")
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    day = since.date()
    while day <= until.date():
        with translated(f"CALLS#{day}"):
            items = [from_item(i) for page in ddb.get_paginator("query").paginate(
                TableName=table, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={":pk": {"S": f"CALLS#{day.isoformat()}"}, ":a": {"S": first},
                                           ":b": {"S": last + "#~"}}) for i in page["Items"]]
        for item in items:
            vendor = str(item["sk"]).split("#", 1)[1]
            for name, value in item.items():
                if name not in ("pk", "sk"):
                    totals[vendor][name] += int(value)
        day += timedelta(days=1)
    return {vendor: _rates(counts) for vendor, counts in sorted(totals.items())}


def _rates(counts: dict[str, int]) -> dict[str, Any]:
    calls, errors = counts.get("calls", 0), counts.get("errors", 0)
    return {"calls": calls, "errors": errors, "error_rate": round(errors / calls, 4) if calls else None,
            "throttles": counts.get("throttles", 0),
            "by_error": {k.removeprefix("error:"): v for k, v in sorted(counts.items()) if k.startswith("error:")},
            "by_http": {k.removeprefix("http:"): v for k, v in sorted(counts.items()) if k.startswith("http:")}}
