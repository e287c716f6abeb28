"""Wakes a poller when what it polls changed, so an idle local stack costs no CPU and a busy one no latency.

Every AWS call made in this process (handlers, moto's Step Functions interpreter, tests, the CLI's clients)
goes through botocore. A call that may change what a poller finds pulses the pollers of that resource
only: a message sent to queue Q wakes Q's pollers, a write to table T wakes T's stream pollers. A message
that reaches a queue inside the embedded AWS (an EventBridge rule's delivery, which no botocore call
makes) wakes that queue's pollers from moto's SQS backend, so PutEvents need not wake every queue poller.
Changes made from outside the process (another program on the moto endpoint) and time-based ones (a
visibility timeout running out) are found by the pollers' idle re-check, at most MAX_IDLE apart.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

MAX_IDLE = 1.0  # seconds between re-checks of an idle poller (for changes this process cannot see)
EVENTS = "events"  # the key every queue poller also listens to
_lock = threading.Lock()
_generations: defaultdict[str, int] = defaultdict(int)
# key -> the events of the pollers waiting on it: a pulse wakes those only (one shared Condition woke every
# idle poller on every write: ~20 wake-ups per AWS call, ~8 % of the stack's CPU under the throughput bench)
_waiting: defaultdict[str, set[threading.Event]] = defaultdict(set)
_installed = False


def queue_key(queue_url_or_arn: str) -> str:
    return "sqs:" + queue_url_or_arn.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]


def table_key(table_name_or_arn: str) -> str:
    name = table_name_or_arn.split(":table/", 1)[-1].split("/", 1)[0]
    return "ddb:" + name


def pulse(*keys: str) -> None:
    with _lock:
        for key in keys:
            _generations[key] += 1
        woken = [event for key in keys if key in _waiting for event in _waiting[key]]
    for event in woken:
        event.set()


def snapshot(keys: frozenset[str]) -> tuple[int, ...]:
    return tuple(_generations.get(k, 0) for k in sorted(keys))


def wait_for_change(keys: frozenset[str], seen: tuple[int, ...], timeout: float) -> None:
    """Return when one of keys changed after the snapshot `seen`, or after timeout seconds."""
    event = threading.Event()
    with _lock:  # a pulse after this check finds the event registered: no change is missed
        if snapshot(keys) != seen:
            return
        for key in keys:
            _waiting[key].add(event)
    try:
        event.wait(timeout)
    finally:
        with _lock:
            for key in keys:
                _waiting[key].discard(event)
                if not _waiting[key]:
                    del _waiting[key]


def keys_changed_by(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch", "ChangeMessageVisibility",
                                          "ChangeMessageVisibilityBatch"):
        return [queue_key(params.get("QueueUrl", ""))]
    if service == "dynamodb":
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return [table_key(params.get("TableName", ""))]
        if operation == "BatchWriteItem":
            return [table_key(t) for t in params.get("RequestItems", {})]
        if operation == "TransactWriteItems":
            return [table_key(next(iter(i.values())).get("TableName", "")) for i in params.get("TransactItems", [])]
    if service == "events" and operation == "PutEvents":
        return [EVENTS]
    return []


def install() -> None:
    """Pulse after every AWS API call made in this process that changes what pollers read (once)."""
    global _installed
    if _installed:
        return
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def call_then_pulse(client: Any, operation: str, params: dict[str, Any]) -> Any:
        try:
            return original(client, operation, params)
        finally:
            keys = keys_changed_by(client.meta.service_model.service_name, operation, params)
            if keys:
                pulse(*keys)

    BaseClient._make_api_call = call_then_pulse
    _pulse_on_moto_sqs_send()
    _installed = True


def _pulse_on_moto_sqs_send() -> None:
    """Wake a queue's pollers whenever moto's SQS backend takes a message for it (by any path)."""
    import inspect

    from moto.sqs.models import SQSBackend

    original = SQSBackend.send_message
    if tuple(inspect.signature(original).parameters)[:2] != ("self", "queue_name"):
        raise RuntimeError(f"moto SQSBackend.send_message changed: {inspect.signature(original)}")

    def send_then_pulse(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(backend, queue_name, *args, **kwargs)
        finally:
            pulse(queue_key(queue_name))

    SQSBackend.send_message = send_then_pulse  # type: ignore[method-assign,assignment]
