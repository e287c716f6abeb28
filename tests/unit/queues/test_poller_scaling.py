"""The local stack's SQS event source honours ScalingConfig.MaximumConcurrency as Lambda does: never more
invocations from that source at once than the setting (the ERP work queue's is the ERP budget), and that many
when there is a backlog; a source without it keeps one invocation at a time."""

import threading
import time
from types import SimpleNamespace

import pytest

from local.concurrency import Throttled
from local.pollers import Pollers, SqsPoller, concurrency

pytestmark = pytest.mark.unit


class Backlog:
    """An SQS queue of n messages (each received once) and a function that takes 20 ms per invocation."""

    def __init__(self, messages: int, throttles: int = 0) -> None:
        self.messages = [f"m{i}" for i in range(messages)]
        self.throttles = throttles  # the first invocations the function's reserved concurrency refuses
        self.lock = threading.Lock()
        self.running = self.peak = self.invocations = 0

    def receive_message(self, QueueUrl, MaxNumberOfMessages, **kwargs):
        with self.lock:
            taken, self.messages = self.messages[:MaxNumberOfMessages], self.messages[MaxNumberOfMessages:]
        return {"Messages": [{"MessageId": m, "ReceiptHandle": m, "Body": "{}"} for m in taken]}

    def delete_message_batch(self, QueueUrl, Entries):
        return {}

    def invoke(self, function_id, event):
        with self.lock:
            if self.throttles:
                self.throttles -= 1
                raise Throttled("at its reserved concurrency")
            self.running += 1
            self.invocations += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        return SimpleNamespace(failed=False, payload={"batchItemFailures": []})


def _stack_and_source(backlog: Backlog, **properties):
    stack = SimpleNamespace(client=lambda service: backlog, functions=backlog, template=SimpleNamespace(
        region="us-east-1"))
    source = SimpleNamespace(kind="sqs", name="ErpWork", function_id="ErpAdapterFunction",
                             queue_url="https://sqs.local/123/erp-work", source_arn="arn:aws:sqs:::erp-work",
                             properties={"BatchSize": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                                         **properties})
    return stack, source


def _drain(pollers: list[SqsPoller]) -> None:
    def run(poller: SqsPoller) -> None:
        while poller.poll():
            pass

    threads = [threading.Thread(target=run, args=(p,)) for p in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


@pytest.mark.parametrize("maximum", [2, 3])
def test_a_backlog_runs_exactly_maximum_concurrency_invocations_at_once(maximum):
    # Given a backlog of 12 messages on a source with ScalingConfig.MaximumConcurrency
    backlog = Backlog(12)
    stack, source = _stack_and_source(backlog, ScalingConfig={"MaximumConcurrency": maximum})
    # When the stack's pollers drain it
    pollers = Pollers(stack, SimpleNamespace(sources=[source], bridges=[])).loops
    _drain(pollers)
    # Then every message was delivered, never more than the maximum at once, and the maximum was used
    assert backlog.invocations == 12 and backlog.peak == maximum
    assert len({p.name for p in pollers}) == maximum


def test_a_source_without_scaling_config_has_one_invocation_at_a_time():
    backlog = Backlog(5)
    stack, source = _stack_and_source(backlog)
    assert concurrency(source) == 1
    _drain(Pollers(stack, SimpleNamespace(sources=[source], bridges=[])).loops)
    assert backlog.invocations == 5 and backlog.peak == 1


def test_a_throttled_invocation_is_retried_while_the_batch_is_held_not_handed_back():
    # Given a function whose reserved concurrency (shared with a direct caller) refuses the first 3 invocations
    backlog = Backlog(2, throttles=3)
    stack, source = _stack_and_source(backlog, ScalingConfig={"MaximumConcurrency": 2})
    # When the source delivers its messages
    _drain(Pollers(stack, SimpleNamespace(sources=[source], bridges=[])).loops)
    # Then both were delivered after the refusals, as Lambda retries a throttled batch it holds
    assert backlog.invocations == 2 and backlog.throttles == 0
