"""The stream event source follows the stream's shards as DynamoDB changes them (moto never does, so a
scripted stream stands in, for the Streams API and for the reads the source makes from moto's backend): a
child shard after its parent, a closed shard dropped, an expired iterator reopened after the last record
delivered."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from local.moto_streams import ExpiredIterator
from local.stream_poller import StreamPoller

pytestmark = pytest.mark.integration


class ScriptedStream:
    """Shards with records; a shard listed in `closed` has no NextShardIterator once read to its end."""

    def __init__(self) -> None:
        self.shards: dict[str, dict[str, Any]] = {}
        self.closed: set[str] = set()
        self.expire_next = False

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        self.shards[shard_id] = {"parent": parent, "records": []}

    def write(self, shard_id: str, key: str) -> None:
        records = self.shards[shard_id]["records"]
        records.append({"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{shard_id}-{len(records):04}",
                                                            "Keys": {"pk": {"S": key}}}})

    def describe_stream(self, StreamArn: str) -> dict:
        shards = [{"ShardId": s, **({"ParentShardId": v["parent"]} if v["parent"] else {})}
                  for s, v in self.shards.items()]
        return {"StreamDescription": {"Shards": shards}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str,
                           SequenceNumber: str | None = None) -> dict:
        records = self.shards[ShardId]["records"]
        start = {"TRIM_HORIZON": 0, "LATEST": len(records)}.get(ShardIteratorType)
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            start = [r["dynamodb"]["SequenceNumber"] for r in records].index(SequenceNumber) + 1
        return {"ShardIterator": f"{ShardId}|{start}"}

    def read(self, iterator: str, limit: int) -> tuple[str | None, list[dict]]:
        """As local.moto_streams.read: (the next iterator, None once a closed shard is read to its end; records)."""
        if self.expire_next:
            self.expire_next = False
            raise ExpiredIterator(iterator)
        shard_id, start = iterator.split("|")
        records = self.shards[shard_id]["records"][int(start):int(start) + limit]
        end = int(start) + len(records)
        if shard_id in self.closed and end >= len(self.shards[shard_id]["records"]):
            return None, [dict(r) for r in records]
        return f"{shard_id}|{end}", [dict(r) for r in records]


@pytest.fixture
def poller():
    stream, delivered = ScriptedStream(), []
    stream.add_shard("shard-1")

    def invoke(function_id: str, event: dict) -> Any:
        delivered.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"])
        return SimpleNamespace(failed=False, payload=None)

    functions = SimpleNamespace(get=lambda _: SimpleNamespace(spec=SimpleNamespace(arn="arn:fn")), invoke=invoke)
    stack = SimpleNamespace(client=lambda _: stream, functions=functions, template=SimpleNamespace(region="us-east-1"))
    source = SimpleNamespace(name="stream", function_id="Fn", properties={"StartingPosition": "TRIM_HORIZON"},
                             source_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1")
    loop = StreamPoller(stack, source)
    loop.poll_interval = 0.0  # these tests are about shards, not the base rate
    loop.read = stream.read
    return loop, stream, delivered


def _drain(loop: StreamPoller) -> None:
    loop.refreshed_at = 0.0  # as if SHARD_REFRESH had passed
    while loop.poll():
        pass


def test_a_child_shard_is_read_after_its_parent_closes(poller):
    loop, stream, delivered = poller
    stream.write("shard-1", "a")
    _drain(loop)
    # When the shard closes with one more record and a child shard takes the new writes
    stream.write("shard-1", "b")
    stream.closed.add("shard-1")
    stream.add_shard("shard-2", parent="shard-1")
    stream.write("shard-2", "c")
    _drain(loop)
    # Then every record is delivered once, the parent's before the child's, and the closed shard is dropped
    assert delivered == ["a", "b", "c"]
    assert list(loop.iterators) == ["shard-2"]


def test_a_child_waits_while_its_parent_still_has_records(poller):
    loop, stream, delivered = poller
    stream.add_shard("shard-2", parent="shard-1")
    stream.write("shard-2", "child")
    loop.refreshed_at = 0.0
    loop.poll()
    assert delivered == []
    stream.write("shard-1", "parent")
    stream.closed.add("shard-1")
    _drain(loop)
    assert delivered == ["parent", "child"]


def test_an_expired_iterator_is_reopened_after_the_last_record_delivered(poller):
    loop, stream, delivered = poller
    stream.write("shard-1", "a")
    _drain(loop)
    stream.write("shard-1", "b")
    stream.expire_next = True
    _drain(loop)
    assert delivered == ["a", "b"]


def test_a_stream_is_read_at_lambdas_base_rate_and_at_once_while_reads_come_back_full(poller):
    loop, stream, delivered = poller
    loop.poll_interval = 0.25  # Lambda's 4 reads per second
    stream.write("shard-1", "a")
    loop.poll()
    # When two more records are written right after a read, the next read waits for the base rate: one batch
    stream.write("shard-1", "b")
    stream.write("shard-1", "c")
    started = time.monotonic()
    loop.poll()
    assert time.monotonic() - started >= 0.2 and delivered == ["a", "b", "c"]
    # When a read comes back full (a backlog), the next read is at once
    loop.batch_size = 2
    for key in "defg":
        stream.write("shard-1", key)
    loop.poll()  # waits for the base rate, reads d, e: full
    started = time.monotonic()
    loop.poll()
    assert time.monotonic() - started < 0.1 and delivered == list("abcdefg")
