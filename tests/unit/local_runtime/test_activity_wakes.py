"""local/activity.py: a pulse wakes the pollers waiting on what changed, and no other; a change made between a
poller's snapshot and its wait is never missed."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from local import activity

pytestmark = pytest.mark.unit


def _waiter(keys: frozenset[str]) -> tuple[threading.Thread, dict[str, float]]:
    woke: dict[str, float] = {}
    seen = activity.snapshot(keys)

    def wait() -> None:
        activity.wait_for_change(keys, seen, timeout=10)
        woke["at"] = time.monotonic()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not all(key in activity._waiting for key in keys) and time.monotonic() < deadline:
        time.sleep(0.005)  # until it is registered
    return thread, woke


def test_a_pulse_wakes_only_the_pollers_of_the_changed_resource():
    # Given two pollers idle on different queues
    queue_a, queue_b = (activity.queue_key(f"https://sqs/123/{uuid.uuid4().hex}") for _ in range(2))
    thread_a, woke_a = _waiter(frozenset({queue_a}))
    thread_b, woke_b = _waiter(frozenset({queue_b, activity.EVENTS + uuid.uuid4().hex}))
    # When queue B changes
    activity.pulse(queue_b)
    thread_b.join(timeout=5)
    # Then B's poller woke and A's still waits, until its own queue changes
    assert "at" in woke_b and thread_a.is_alive() and "at" not in woke_a
    activity.pulse(queue_a)
    thread_a.join(timeout=5)
    assert "at" in woke_a
    assert queue_a not in activity._waiting and queue_b not in activity._waiting


def test_a_change_before_the_wait_returns_at_once():
    key = activity.table_key(f"arn:aws:dynamodb:us-east-1:123456789012:table/{uuid.uuid4().hex}")
    seen = activity.snapshot(frozenset({key}))
    activity.pulse(key)  # between the poller's snapshot and its wait
    started = time.monotonic()
    activity.wait_for_change(frozenset({key}), seen, timeout=10)
    assert time.monotonic() - started < 1 and key not in activity._waiting
