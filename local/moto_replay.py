"""EventBridge replays as AWS does them: moto 5.2.5's StartReplay re-delivers every archived event, whatever its
time, to every rule of the bus, ignoring EventStartTime/EventEndTime and Destination.FilterArns. AWS replays only
the events whose time (PutEvents' Time) lies in the window, and only to the rules FilterArns names (all rules
when it is empty) (EventBridge API Reference, StartReplay and ReplayDestination). This replaces moto's
Replay.replay_events with that behaviour; each replayed event gets a new id and `replay-name`, as moto and AWS do.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_replay_guard.py fails loudly if the
replaced method or the attributes it reads change.
"""

from __future__ import annotations

import copy
import inspect
import uuid
from datetime import UTC, datetime
from typing import Any

from local import pinned

EXPECTED_MOTO = "5.2.5"
EXPECTED_PARAMETERS = ("self", "archive")


def target() -> Any:
    from moto.events.models import Replay

    return Replay


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_PARAMETERS:
        raise RuntimeError(f"moto Replay.replay_events changed signature: {params}")


def _original() -> Any:
    method = target().replay_events
    return getattr(method, "__wrapped_moto_replay__", method)


def install() -> None:
    check_compatible()
    original = _original()

    def replay_events(self: Any, archive: Any) -> None:
        _replay(self, archive)

    replay_events.__wrapped_moto_replay__ = original  # type: ignore[attr-defined]
    target().replay_events = replay_events


def _replay(replay: Any, archive: Any) -> None:
    from moto.core.utils import unix_time
    from moto.events.models import ReplayState, events_backends

    start, end = _epoch(replay.event_start_time), _epoch(replay.event_end_time)
    only = set(replay.destination.get("FilterArns") or [])
    backend = events_backends[replay.account_id][replay.region]
    bus = backend.describe_event_bus(replay.destination["Arn"].split("/")[-1])
    for event in list(archive.events):
        when = _epoch(event.get("time"))
        if when is None or start is None or end is None or not start <= when <= end:
            continue
        for rule in list(bus.rules.values()):
            if only and rule.arn not in only:
                continue
            # a copy per rule: moto's SQS delivery rewrites the event's time in place
            replayed = {**copy.deepcopy(event), "id": str(uuid.uuid4()), "replay-name": replay.name}
            rule.send_to_targets(replayed, transform_input=False)  # type: ignore[arg-type]
    replay.state = ReplayState.COMPLETED
    replay.end_time = unix_time()


def _epoch(value: Any) -> float | None:
    """moto keeps times as epoch numbers or, once an SQS delivery has rewritten them, ISO-8601 strings."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
