"""The event source side of Lambda: one poller thread per SQS source, DynamoDB stream source and rule bridge.

Pollers use short waits (a few ms between empty polls) so end-to-end latency stays in the tens of ms.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from local import activity
from local.concurrency import Throttled
from local.filters import matches_any
from local.poll_loop import IDLE_SLEEP, PollLoop
from local.stream_poller import StreamPoller

SQS_MAX_PER_RECEIVE = 10
THROTTLE_RETRY_SECONDS = 60  # how long a source keeps retrying an invocation that reserved concurrency throttled


class SqsPoller(PollLoop):
    """Lambda's SQS event source: batches, batching window, filters, ReportBatchItemFailures; the queue's own
    visibility timeout and RedrivePolicy do retries and the move to the DLQ. One poller has one invocation in
    flight at a time; a source gets `concurrency(source)` of them."""

    def __init__(self, stack: Any, source: Any, index: int = 0) -> None:
        super().__init__(f"{source.name}#{index}" if index else source.name,
                         frozenset({activity.queue_key(source.queue_url)}))
        self.stack, self.source = stack, source
        props = source.properties
        self.batch_size = int(props.get("BatchSize", 10))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.report_failures = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self.enabled = props.get("Enabled", True) not in (False, "false", "False")
        self.sqs = stack.client("sqs")

    def poll(self) -> bool:
        if not self.enabled:
            return False
        messages = self._receive(min(self.batch_size, SQS_MAX_PER_RECEIVE))
        if not messages:
            return False
        deadline = time.monotonic() + self.window
        while len(messages) < self.batch_size and time.monotonic() < deadline and not self.stopping.is_set():
            more = self._receive(min(self.batch_size - len(messages), SQS_MAX_PER_RECEIVE))
            messages += more
            if not more:
                time.sleep(IDLE_SLEEP)
        records = [self._record(m) for m in messages]
        kept = [r for r in records if matches_any(self.source.properties.get("FilterCriteria"), _filterable(r))]
        done = {r["messageId"] for r in records if r not in kept}  # Lambda deletes filtered-out messages
        if kept:
            result = self._invoke({"Records": kept})
            done |= self._succeeded(kept, result)
        self._delete([m for m in messages if m["MessageId"] in done])
        return True

    def _invoke(self, event: dict[str, Any]) -> Any:
        """Lambda retries an invocation of the batch it holds when the function's reserved concurrency throttles
        it (AWS's reason for a visibility timeout of 6x the function's timeout) instead of handing the messages
        back at once: a direct caller holding a slot of a shared budget delays the batch, it does not hide it."""
        deadline, delay = time.monotonic() + THROTTLE_RETRY_SECONDS, IDLE_SLEEP
        while True:
            try:
                return self.stack.functions.invoke(self.source.function_id, event)
            except Throttled:
                if self.stopping.is_set() or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _receive(self, count: int) -> list[dict[str, Any]]:
        return self.sqs.receive_message(QueueUrl=self.source.queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=0,
                                        AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])

    def _succeeded(self, records: list[dict[str, Any]], result: Any) -> set[str]:
        ids = {r["messageId"] for r in records}
        if result.failed:
            return set()
        if not self.report_failures or not isinstance(result.payload, dict):
            return ids
        failures = result.payload.get("batchItemFailures") or []
        failed = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        if any(not item or item not in ids for item in failed):
            return set()  # an invalid itemIdentifier fails the whole batch, as on AWS
        return ids - failed

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.source.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        stack = self.stack
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": {
                name: {"stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"),
                       "stringListValues": [], "binaryListValues": [], "dataType": a.get("DataType")}
                for name, a in message.get("MessageAttributes", {}).items()},
            "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": self.source.source_arn,
            "awsRegion": stack.template.region,
        }


def concurrency(source: Any) -> int:
    """How many invocations an SQS source runs at once: its ScalingConfig.MaximumConcurrency (the ERP work queue's
    is the ERP budget), else one, as this stack always did (Lambda would scale further on AWS)."""
    return int((source.properties.get("ScalingConfig") or {}).get("MaximumConcurrency") or 1)


def _filterable(record: dict[str, Any]) -> dict[str, Any]:
    """SQS filter patterns see the body as JSON when it is JSON."""
    try:
        return {**record, "body": json.loads(record["body"])}
    except ValueError:
        return record


class BridgePoller(PollLoop):
    """Delivers what a rule sent to a bridge queue to the target moto cannot call: a function (asynchronously,
    as EventBridge does), a state machine execution, or a queue with Input/InputPath applied."""

    def __init__(self, stack: Any, bridge: Any) -> None:
        super().__init__(f"bridge {bridge.rule}", frozenset({activity.queue_key(bridge.queue_url)}))
        self.stack, self.bridge = stack, bridge
        self.sqs = stack.client("sqs")

    def poll(self) -> bool:
        messages = self.sqs.receive_message(QueueUrl=self.bridge.queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=0).get("Messages", [])
        for message in messages:
            deliver(self.stack, self.bridge.target, json.loads(message["Body"]))
            self.sqs.delete_message(QueueUrl=self.bridge.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bool(messages)


def deliver(stack: Any, target: Any, event: dict[str, Any]) -> None:
    """One event to one rule/schedule target."""
    import uuid

    payload = target.shape(event)
    if target.kind == "function":
        threading.Thread(target=stack.functions.invoke, args=(target.arn, payload), daemon=True).start()
    elif target.kind == "statemachine":
        stack.client("stepfunctions").start_execution(stateMachineArn=target.arn, name=uuid.uuid4().hex,
                                                      input=json.dumps(payload))
    elif target.kind == "sqs":
        url = target.queue_url or stack.client("sqs").get_queue_url(QueueName=target.arn.rsplit(":", 1)[-1])["QueueUrl"]
        request = {"QueueUrl": url, "MessageBody": payload if isinstance(payload, str) else json.dumps(payload)}
        if target.group_id:
            request["MessageGroupId"] = target.group_id
        stack.client("sqs").send_message(**request)


class Pollers:
    def __init__(self, stack: Any, wiring: Any) -> None:
        self.loops: list[PollLoop] = []
        for source in wiring.sources:
            if source.kind == "sqs" and source.queue_url:
                self.loops += [SqsPoller(stack, source, i) for i in range(concurrency(source))]
            elif source.kind == "stream":
                self.loops.append(StreamPoller(stack, source))
        self.loops += [BridgePoller(stack, bridge) for bridge in wiring.bridges]

    def start(self) -> None:
        activity.install()
        for loop in self.loops:
            loop.start()

    def stop(self) -> None:
        for loop in self.loops:
            loop.stopping.set()
        activity.pulse(*{key for loop in self.loops for key in loop.wake_on})  # so idle ones see they stop
        for loop in self.loops:
            loop.thread.join(timeout=5)
