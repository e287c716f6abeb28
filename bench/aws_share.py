"""The embedded AWS's own share of the local stack's CPU, for the benches: the CPU time threads spend inside moto.

Counted: moto answering the stack's in-process AWS calls (`local.inprocess_aws.InProcessAws.call`) and moto's
Step Functions interpreter running executions (`ExecutionWorker._execution_logic`, its own threads, with the
little of our code that runs in them: `local/task_turns.py`, `local/moto_sfn.py`). Not counted:
our code that moto runs inside one of those (a Task's Lambda invocation, `local.moto_lambda`'s dispatcher), and
the stream sources' direct reads of moto's backend (`local.moto_streams`, ~1.4 ms per 25 records). A call nested
in another is counted once. Thread CPU time (`time.thread_time`): waiting, sleeping and long polls count nothing.

Only fewer or cheaper AWS calls, or a faster moto, lower this share: 1 / (its CPU per event) is what one
interpreter with moto as it is, making the same calls, could reach if everything else cost nothing.
Install before the stack starts (moto_lambda's dispatcher is wrapped when the stack sets it); the stack's code is
not changed, only wrapped for the bench's process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class _Regions(threading.local):
    def __init__(self) -> None:
        # the measured regions this thread is in, innermost last: [thread CPU at entry, CPU of regions inside it]
        self.open: list[list[float]] = []


class AwsShare:
    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._regions = _Regions()

    def measured(self, fn: Callable[..., Any], *, moto: bool) -> Callable[..., Any]:
        """fn as a region of its own: its CPU (less what regions inside it took) is moto's if `moto`, else not."""
        def region(*args: Any, **kwargs: Any) -> Any:
            regions = self._regions.open
            if not moto and not regions:  # our code, outside any moto region: nothing to take it out of
                return fn(*args, **kwargs)
            entry = [time.thread_time(), 0.0]
            regions.append(entry)
            try:
                return fn(*args, **kwargs)
            finally:
                regions.pop()
                spent = time.thread_time() - entry[0]
                if regions:
                    regions[-1][1] += spent
                if moto:
                    with self._lock:
                        self.seconds += spent - entry[1]

        return region


def install() -> AwsShare:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    from local import inprocess_aws, moto_lambda

    share = AwsShare()
    inprocess_aws.InProcessAws.call = share.measured(inprocess_aws.InProcessAws.call, moto=True)  # type: ignore[method-assign]
    ExecutionWorker._execution_logic = share.measured(ExecutionWorker._execution_logic, moto=True)  # type: ignore[method-assign]
    set_dispatcher = moto_lambda.set_dispatcher

    def set_measured_dispatcher(dispatcher: moto_lambda.Dispatcher | None) -> None:
        set_dispatcher(None if dispatcher is None else share.measured(dispatcher, moto=False))

    moto_lambda.set_dispatcher = set_measured_dispatcher  # type: ignore[assignment]
    return share
