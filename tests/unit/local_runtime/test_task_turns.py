"""Lambda tasks take turns on the local stack's interpreter (local/task_turns.py): the oldest execution's task
goes next, a task that waits gives its turn up, and one that cannot have its turn back in time goes on."""

from __future__ import annotations

import threading
import time

from local.task_turns import Turns


def start(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def wait_until(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_freed_turn_goes_to_the_oldest_execution_not_the_first_to_ask():
    turns, order, holding = Turns(1), [], threading.Event()
    release = threading.Event()

    def holder() -> None:
        with turns.turn("2026-12-01T10:00:00"):
            holding.set()
            release.wait(5)

    def task(started_at: str) -> None:
        with turns.turn(started_at):
            order.append(started_at)

    first = start(holder)
    holding.wait(5)
    # executions that started at 10:03, 10:01 and 10:02 ask for a turn, in that order
    waiters = [start(task, f"2026-12-01T10:0{minute}:00") for minute in (3, 1, 2)]
    wait_until(lambda: len(turns._waiting) == 3)
    release.set()
    for thread in [first, *waiters]:
        thread.join(5)
    assert order == ["2026-12-01T10:01:00", "2026-12-01T10:02:00", "2026-12-01T10:03:00"]
    assert turns.free == 1


def test_a_task_that_waits_gives_its_turn_up_and_takes_it_back_after():
    turns, seen = Turns(1), []
    in_wait, wait_over = threading.Event(), threading.Event()

    def waiting_task() -> None:
        with turns.turn("a"):
            with turns.paused():
                in_wait.set()
                wait_over.wait(5)
            seen.append(("back", turns.free))

    def other_task() -> None:
        with turns.turn("b"):
            seen.append(("other ran", turns.free))

    first = start(waiting_task)
    in_wait.wait(5)
    start(other_task).join(5)  # it runs while the first one waits: turns never cap how many run at once
    wait_over.set()
    first.join(5)
    assert seen == [("other ran", 0), ("back", 0)]
    assert turns.free == 1


def test_a_task_that_cannot_have_its_turn_back_in_time_goes_on_without_one():
    # the deadlock it avoids: the holder waits for a lock the paused task holds
    turns, lock, done = Turns(1), threading.Lock(), []
    paused, holder_waits = threading.Event(), threading.Event()

    def fetches_token() -> None:
        with turns.turn("a"), lock:
            with turns.paused():
                paused.set()
                holder_waits.wait(5)
            done.append("fetched")  # queued for its turn, gave up after REQUEUE_SECONDS, went on

    def needs_token() -> None:
        with turns.turn("b"):
            holder_waits.set()
            with lock:
                done.append("used")

    first = start(fetches_token)
    paused.wait(5)
    second = start(needs_token)
    first.join(5)
    second.join(5)
    assert done == ["fetched", "used"]
    assert turns.free == 1 and not turns._waiting


def test_outside_a_task_pausing_changes_nothing():
    turns = Turns(1)
    with turns.paused():
        assert turns.free == 1
    assert turns.free == 1
