"""Lambda's DynamoDB stream event source: per shard, in order; batch size and batching window, filters,
retries (MaximumRetryAttempts), BisectBatchOnFunctionError, ReportBatchItemFailures (retry from the first
failed SequenceNumber) and the on-failure destination with AWS's stream failure record. It follows the
stream's shards as they change: new shards are picked up (a child after its parent), closed ones dropped
once read to their end, and an expired iterator is reopened after the last record delivered.

It reads each stream at Lambda's base rate, 4 times per second ("Lambda polls shards in your DynamoDB stream for
records at a base rate of 4 times per second", AWS Lambda Developer Guide, Using AWS Lambda with Amazon DynamoDB,
Polling and batching streams), and at once again while a read comes back full (a backlog). Records written
between two reads arrive in one batch, as on AWS; reading on every write instead cost ~70 GetRecords and ~10
one-record invocations per activation (issue 13)."""

from __future__ import annotations

import functools
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from local import activity, moto_streams
from local.filters import matches_any
from local.poll_loop import IDLE_SLEEP, PollLoop

RETRY_PAUSE = 0.02  # between retries of a failed batch (AWS backs off; locally we keep tests fast)
SHARD_REFRESH = 1.0  # seconds between looks for new shards of the stream
POLL_INTERVAL = 0.25  # Lambda's base rate: each stream is read at most 4 times per second unless a read was full


class StreamPoller(PollLoop):
    def __init__(self, stack: Any, source: Any) -> None:
        super().__init__(source.name, frozenset({activity.table_key(source.source_arn)}))
        self.stack, self.source = stack, source
        props = source.properties
        self.batch_size = min(int(props.get("BatchSize", 100)), 1000)
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.bisect = str(props.get("BisectBatchOnFunctionError", False)).lower() == "true"
        self.report_failures = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self.on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        self.streams = stack.client("dynamodbstreams")
        self.function_arn = stack.functions.get(source.function_id).spec.arn
        self.position = "TRIM_HORIZON" if props.get("StartingPosition", "LATEST") == "TRIM_HORIZON" else "LATEST"
        self.iterators: dict[str, str] = {}
        self.parents: dict[str, str | None] = {}  # shard id -> parent shard id: a child waits for its parent
        self.last_sequence: dict[str, str] = {}  # shard id -> last record delivered: where to reopen an iterator
        self.refreshed_at = 0.0
        self.table = source.source_arn.split(":table/", 1)[-1].split("/", 1)[0]
        self.account_id, self.region = source.source_arn.split(":")[4], source.source_arn.split(":")[3]
        self.read = functools.partial(moto_streams.read, account_id=self.account_id, region=self.region)
        moto_streams.register(self.table, id(self))  # records this source has not delivered are kept
        self._follow_shards(self.position)
        self.invocations = 0
        self.poll_interval = POLL_INTERVAL
        self.next_poll = 0.0  # monotonic time of the next read at the base rate (0: a read came back full)

    def poll(self) -> bool:
        delay = self.next_poll - time.monotonic()
        if delay > 0 and self.stopping.wait(delay):
            return False  # stopped while waiting for the base rate: nothing more is read
        self.next_poll = time.monotonic() + self.poll_interval
        if time.monotonic() - self.refreshed_at > SHARD_REFRESH:
            self._follow_shards("TRIM_HORIZON")  # a shard that appears later holds only records after we started
        busy = False
        for shard_id in [s for s in self.iterators if self.parents.get(s) not in self.iterators]:
            last, batch = self._collect(shard_id)
            if last is None:
                continue
            busy = True
            if batch:
                self._deliver(shard_id, batch, self.max_retries)
            self.last_sequence[shard_id] = last
            if not self.stopping.is_set():  # a batch cut short by stop was not delivered
                moto_streams.delivered(self.table, id(self), last, self.account_id, self.region)
        return busy

    def _run(self) -> None:
        try:
            super()._run()
        finally:
            moto_streams.unregister(self.table, id(self))

    def _collect(self, shard_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        """(SequenceNumber of the last record read, the records that pass the filters, up to the batch size).

        Lambda filters before it batches: a batch holds BatchSize matching records when the stream has them
        (records the filters drop, e.g. the publisher's own MODIFY marks, do not take places in it)."""
        records = self._read(shard_id, self.batch_size)
        if not records:
            return None, []
        batch = self._matching(records)
        deadline = time.monotonic() + self.window
        while len(batch) < self.batch_size and shard_id in self.iterators and not self.stopping.is_set():
            more = self._read(shard_id, self.batch_size - len(batch))
            if more:
                records, batch = more, batch + self._matching(more)
            elif time.monotonic() < deadline:
                time.sleep(IDLE_SLEEP)
            else:
                break
        return records[-1]["dynamodb"]["SequenceNumber"], batch

    def _matching(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in (self._record(raw) for raw in records)
                if matches_any(self.source.properties.get("FilterCriteria"), r)]

    def _follow_shards(self, position: str) -> None:
        """Open an iterator on every shard of the stream we do not read yet (AWS splits and rolls shards over)."""
        self.refreshed_at = time.monotonic()
        shards = self.streams.describe_stream(StreamArn=self.source.source_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators and shard_id not in self.parents:
                self.parents[shard_id] = shard.get("ParentShardId")
                self.iterators[shard_id] = self._iterator(shard_id, position)

    def _iterator(self, shard_id: str, position: str) -> str:
        after = self.last_sequence.get(shard_id)
        options = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after
                   else {"ShardIteratorType": position})
        return self.streams.get_shard_iterator(StreamArn=self.source.source_arn, ShardId=shard_id,
                                               **options)["ShardIterator"]

    def _read(self, shard_id: str, limit: int) -> list[dict[str, Any]]:
        """GetRecords, from moto's backend as Lambda's own poller reads the stream (local/moto_streams.read)."""
        try:
            following, records = self.read(self.iterators[shard_id], limit)
        except moto_streams.ExpiredIterator:  # reopen after the last record delivered
            self.iterators[shard_id] = self._iterator(shard_id, "TRIM_HORIZON")
            following, records = self.read(self.iterators[shard_id], limit)
        if len(records) >= limit:
            self.next_poll = 0.0  # the shard holds more: read again at once, as Lambda does with a backlog
        if following is None:  # the shard is closed: once read to its end, its children follow
            del self.iterators[shard_id]
            self.refreshed_at = 0.0
        else:
            self.iterators[shard_id] = following
        return records

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]], retries_left: int) -> None:
        """Invoke until the batch succeeds, retries run out (then the on-failure destination), or we stop."""
        while batch and not self.stopping.is_set():
            self.invocations += 1
            result = self.stack.functions.invoke(self.source.function_id, {"Records": batch})
            failed_from = self._failed_from(batch, result)
            if failed_from is None:
                return
            if result.failed and self.bisect and len(batch) > 1:
                middle = len(batch) // 2
                self._deliver(shard_id, batch[:middle], retries_left)
                self._deliver(shard_id, batch[middle:], retries_left)
                return
            batch = batch[failed_from:]
            if retries_left == 0:
                self._send_on_failure(shard_id, batch)
                return
            retries_left -= 1  # -1 stays negative: retry until it succeeds, as AWS does with no limit
            time.sleep(RETRY_PAUSE)

    def _failed_from(self, batch: list[dict[str, Any]], result: Any) -> int | None:
        """Index of the first record to retry, or None when the whole batch is done."""
        if result.failed:
            return 0
        if not self.report_failures or not isinstance(result.payload, dict):
            return None
        failures = result.payload.get("batchItemFailures") or []
        numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        identifiers = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if not identifiers:
            return None
        if any(i not in numbers for i in identifiers):
            return 0  # an empty or unknown itemIdentifier fails the whole batch
        return min(numbers.index(i) for i in identifiers)

    def _send_on_failure(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        if not self.on_failure or ":sqs:" not in self.on_failure:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": self.function_arn,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.invocations},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": _iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id, "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime", time.time())),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime", time.time())),
                "batchSize": len(batch), "streamArn": self.source.source_arn},
        }
        sqs = self.stack.client("sqs")
        url = sqs.get_queue_url(QueueName=self.on_failure.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        record.setdefault("eventVersion", "1.1")
        record.setdefault("eventSource", "aws:dynamodb")
        record.setdefault("awsRegion", self.stack.template.region)
        record["eventSourceARN"] = self.source.source_arn
        return record


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
