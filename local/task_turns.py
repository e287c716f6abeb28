"""Step Functions' Lambda tasks take turns on the local stack's one interpreter, the oldest execution first.

On AWS every Lambda invocation has a CPU of its own. Here all of them share one Python interpreter (one core's
worth under the GIL): with N executions in their Lambda tasks each gets 1/N of it, so the first execution of a
burst finishes its tasks about when the last one does (processor sharing). In `bench.workflows`' burst of 30
activations the ERP's first request came 4.5 s in, and the ERP, the bottleneck the hub has to keep busy, sat
idle until then (issue 13).

Here a Lambda Task waits for its turn before it invokes its function: TURNS tasks compute at a time, and when
one is done the waiting task whose execution started first goes next (`$$.Execution.StartTime`, then arrival).
A task gives its turn up while it waits rather than computes (`time.sleep`, a vendor call through `requests`),
so turns never limit how many invocations run at once: a function's reserved concurrency still throttles as on
AWS. After the wait it queues for a turn again, but for at most REQUEUE_SECONDS, then goes on without one: a task
holding a turn may be waiting for a lock the paused task holds (the OAuth token one task is fetching for all).

Only the order changes: every task runs, with the same input, on its own thread; the first wait comes before
the invocation, so no Lambda timeout runs during it (moto counts it in a Task's own TimeoutSeconds; no Task of
ours has one). Everything else (webhooks, pollers, the ERP work queue's consumer, direct invokes, moto's
interpreter between tasks) runs as before.

moto- and requests-internal (pinned moto==5.2.5, requests==2.34.2):
tests/integration/runtime/test_runtime_task_turns_guard.py fails loudly if what this relies on changes.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local import pinned

EXPECTED_MOTO, EXPECTED_REQUESTS = "5.2.5", "2.34.2"
EXPECTED_EVAL = ("self", "env")
EXPECTED_SEND = ("self", "request", "stream", "timeout", "verify", "cert", "proxies")
TURNS = 1  # the interpreter computes one thing at a time; a task that waits gives its turn up
REQUEUE_SECONDS = 0.25
MARK = "__erphub_task_turns__"


class Turns:
    """Up to `count` holders at once; a turn that frees goes to the waiter with the lowest (priority, arrival)."""

    def __init__(self, count: int) -> None:
        self.free = count
        self._lock = threading.Lock()
        self._waiting: list[tuple[str, int, threading.Event]] = []
        self._arrivals = itertools.count()
        self._mine = threading.local()  # this thread's task: its priority, and whether it holds a turn now

    @contextmanager
    def turn(self, priority: str) -> Iterator[None]:
        self._mine.priority, self._mine.holding = priority, self._take(priority)
        try:
            yield
        finally:
            if self._mine.holding:
                self._give()
            self._mine.priority, self._mine.holding = None, False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The caller's turn given up while it waits (nothing, if it holds none), then queued for again."""
        if not getattr(self._mine, "holding", False):
            yield
            return
        self._give()
        self._mine.holding = False
        try:
            yield
        finally:
            self._mine.holding = self._take(self._mine.priority, REQUEUE_SECONDS)

    def _take(self, priority: str, timeout: float | None = None) -> bool:
        """Wait for a turn (at most `timeout` seconds): True once held, False if the time ran out first."""
        with self._lock:
            if self.free and not self._waiting:
                self.free -= 1
                return True
            entry = (priority, next(self._arrivals), threading.Event())
            heapq.heappush(self._waiting, entry)
        if entry[2].wait(timeout):
            return True
        with self._lock:
            if entry[2].is_set():  # handed over just as the time ran out
                return True
            self._waiting.remove(entry)
            heapq.heapify(self._waiting)
            return False

    def _give(self) -> None:
        with self._lock:
            if self._waiting:
                heapq.heappop(self._waiting)[2].set()  # handed over: `free` stays as it is
            else:
                self.free += 1


TASKS = Turns(TURNS)


def task_target() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    return StateTaskLambda


def adapter_target() -> Any:
    from requests.adapters import HTTPAdapter

    return HTTPAdapter


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    pinned.require("requests", EXPECTED_REQUESTS, __name__)
    for method, expected in ((task_target()._eval_execution, EXPECTED_EVAL), (adapter_target().send, EXPECTED_SEND)):
        method = getattr(method, MARK, method)  # checked again once installed: the method it wraps
        if tuple(inspect.signature(method).parameters) != expected:
            raise RuntimeError(f"{method.__qualname__} changed signature: {inspect.signature(method)}")


def installed() -> bool:
    return getattr(task_target()._eval_execution, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (moto's and requests' classes and `time.sleep` are)."""
    if installed():
        return
    check_compatible()
    task, adapter = task_target(), adapter_target()
    evaluate, send, sleep = task._eval_execution, adapter.send, time.sleep

    def eval_execution(self: Any, env: Any) -> Any:
        with TASKS.turn(str(env.states.context_object.context_object_data["Execution"]["StartTime"])):
            return evaluate(self, env)

    def send_paused(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        with TASKS.paused():
            return send(self, request, *args, **kwargs)

    def sleep_paused(seconds: Any) -> None:
        with TASKS.paused():
            sleep(seconds)

    for patched, original in ((eval_execution, evaluate), (send_paused, send), (sleep_paused, sleep)):
        setattr(patched, MARK, original)
    task._eval_execution, adapter.send, time.sleep = eval_execution, send_paused, sleep_paused
