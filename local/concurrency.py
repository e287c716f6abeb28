"""Reserved concurrency as Lambda enforces it: an invocation over the budget is refused at once with
TooManyRequestsException (HTTP 429); it never waits for a slot. The caller decides what a throttle means:
Step Functions sees `Lambda.TooManyRequestsException` and its Retry backs off, boto3 raises a ClientError,
an event source retries later."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Throttled(Exception):
    """The function is at its reserved concurrency: Lambda answers 429 TooManyRequestsException."""

    error_code = "TooManyRequestsException"
    reason = "ReservedFunctionConcurrentInvocationLimitExceeded"  # the Reason field of Lambda's 429 body


class ReservedConcurrency:
    """At most `limit` invocations of one function run at once; None means no reservation (unlimited here)."""

    def __init__(self, function_name: str, limit: int | None) -> None:
        self.function_name, self.limit = function_name, limit
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.throttled = 0  # invocations refused: what the ERP budget's e2e test reads (none for queued ERP steps)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.limit is not None:
            with self._lock:
                if self.running >= self.limit:
                    self.throttled += 1
                    raise Throttled(f"Rate Exceeded. {self.function_name} is at its reserved concurrency "
                                    f"({self.limit})")
                self.running += 1
                self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            if self.limit is not None:
                with self._lock:
                    self.running -= 1
