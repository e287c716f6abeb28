"""DynamoDB Streams in the embedded AWS with bounded memory, as AWS's own are (records are trimmed after 24 h,
shard iterators expire after 15 minutes).

moto 5.2.5 keeps every stream record for the life of the process (each a dict with the item's images: the
inbox's stream is NEW_AND_OLD_IMAGES, so one webhook leaves an INSERT and the publisher's MODIFY, three
copies of the item), and every GetRecords call registers a new shard iterator (a 632-character id) that is
never dropped. Under load that grows without bound (issue 13). Here:

- a stream record is trimmed once every local event source on that stream (local/stream_poller.py) has
  delivered it, always keeping the newest KEEP_RECORDS of the shard for other readers (tests, the CLI);
  a stream no local event source reads is left as moto keeps it. Nothing acknowledged is lost: the
  item itself stays in the table, and a record is trimmed only after its event source delivered it;
- the shard iterators remembered are the newest MAX_ITERATORS; an older one reads as expired
  (ExpiredIteratorException), which is what AWS answers for an iterator past its 15 minutes;
- a reader positioned before the trimmed part reads from the oldest record kept (AWS's TRIM_HORIZON);
- the local event sources read a shard straight from the backend (`read`): the records as Lambda hands them to
  a function, without a request, a JSON round trip and botocore's parser (reading the four stream sources
  through the API was ~12 % of the stack's CPU in bench.workflows, issue 13). Other readers (tests, the CLI)
  use the API;
- GetRecords answers with the records' JSON as they are (DynamoDB JSON already; the creation time as epoch
  seconds, as the wire format has it): moto's generic response serializer walked every attribute of every
  image and was ~40 % of the stack's CPU while the publisher drained a backlog. A binary value (`B`, `BS`:
  moto keeps bytes) is written base64 as moto's serializer writes it (the inbox's items hold the raw body as
  `B`, so before this every inbox record still took the slow path: ~17 % of the stack's CPU under the
  throughput bench). Anything else JSON cannot write still goes through moto's serializer.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_streams_guard.py fails loudly
if what this relies on changes. Everything here runs under local.moto_dynamodb.LOCK, as every DynamoDB and
Streams backend method does.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import threading
from datetime import UTC, datetime
from typing import Any

from local.moto_dynamodb import LOCK

KEEP_RECORDS = 1000  # newest records of each shard kept whatever the readers' positions
MAX_ITERATORS = 1000  # newest shard iterators kept (our pollers only ever use their latest)
MARK = "__erphub_bounded__"
_positions: dict[str, dict[int, int]] = {}  # table name -> reader id -> sequence number delivered up to
_positions_lock = threading.Lock()


def handler() -> Any:
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    return DynamoDBStreamsHandler


def classes() -> tuple[Any, Any, Any]:
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

    return StreamShard, ShardIterator, DynamoDBStreamsBackend


def check_compatible() -> None:
    shard, iterator, backend = classes()
    expected = {(shard, "get"): ("self", "start", "quantity"), (shard, "add"): ("self", "old", "new"),
                (iterator, "get"): ("self", "limit"), (backend, "get_records"): ("self", "iterator_arn", "limit")}
    for (cls, name), parameters in expected.items():
        method = getattr(getattr(cls, name), MARK, getattr(cls, name))
        method = getattr(method, "__erphub_locked__", method)
        if tuple(inspect.signature(method).parameters) != parameters:
            raise RuntimeError(f"moto {cls.__name__}.{name} changed: {inspect.signature(method)}")
    if "return ActionResult(result)" not in inspect.getsource(_original(handler().get_records)):
        raise RuntimeError("moto DynamoDBStreamsHandler.get_records no longer answers the backend's result as is")
    source = inspect.getsource(shard.add)
    if "len(self.items) + self.starting_sequence_number" not in source:
        raise RuntimeError("moto StreamShard.add no longer numbers records from starting_sequence_number")


def install() -> None:
    """Idempotent; process-wide (moto's classes are)."""
    shard, iterator, backend = classes()
    if getattr(shard.get, MARK, None) is not None:
        return
    check_compatible()
    shard.get = _from_oldest_kept(shard.get)
    iterator.get = _forgetting_old_iterators(iterator.get)
    original_get_records = backend.get_records
    backend.get_records = _expired_when_forgotten(original_get_records)
    handler().get_records = _plain_json(handler().get_records)
    for name in ("__erphub_locked__",):  # local.moto_dynamodb's mark: its install() sees the method locked
        if hasattr(original_get_records, name):
            setattr(backend.get_records, name, getattr(original_get_records, name))


def _original(method: Any) -> Any:
    return getattr(method, MARK, method)


def _plain_json(original: Any) -> Any:
    @functools.wraps(original)
    def get_records(self: Any) -> Any:
        answer = original(self)
        try:
            return json.dumps(answer.result, default=_wire_value), {"Content-Type": "application/x-amz-json-1.0"}
        except TypeError:  # a value of another type: moto's serializer knows its shape
            return answer

    setattr(get_records, MARK, original)
    return get_records


class ExpiredIterator(Exception):
    """The shard iterator is forgotten (AWS: older than 15 minutes): open another."""


def read(iterator: str, limit: int, account_id: str, region: str) -> tuple[str | None, list[dict[str, Any]]]:
    """GetRecords for a local event source: (the next iterator, None once the shard is closed; the records as
    Lambda delivers them: the wire's JSON with the creation time in whole epoch seconds and binaries base64)."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    try:
        answer = dynamodbstreams_backends[account_id][region].get_records(iterator, limit)
    except JsonRESTError as exc:
        if exc.error_type == "ExpiredIteratorException":
            raise ExpiredIterator(iterator) from exc
        raise
    return answer.get("NextShardIterator"), [_as_delivered(record) for record in answer["Records"]]


def _as_delivered(value: Any) -> Any:
    """A copy of moto's record (which stays moto's) with the values JSON cannot hold as Lambda writes them."""
    if isinstance(value, dict):
        return {k: _as_delivered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_delivered(v) for v in value]
    if isinstance(value, datetime):
        return int(_wire_value(value))
    if isinstance(value, bytes):
        return _wire_value(value)
    return value


def _wire_value(value: Any) -> float | str:
    if isinstance(value, datetime):  # moto's utcnow(): naive UTC; the wire has epoch seconds
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, bytes):  # a B or BS member: base64 on the wire, as moto's serializer writes it
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _from_oldest_kept(original: Any) -> Any:
    @functools.wraps(original)
    def get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        return original(self, max(int(start), self.starting_sequence_number), quantity)

    setattr(get, MARK, original)
    return get


def _forgetting_old_iterators(original: Any) -> Any:
    @functools.wraps(original)
    def get(self: Any, limit: int = 1000) -> dict[str, Any]:
        result = original(self, limit)
        remembered = self.streams_backend.shard_iterators
        while len(remembered) > MAX_ITERATORS:  # dicts keep insertion order: the first is the oldest
            del remembered[next(iter(remembered))]
        return result

    setattr(get, MARK, original)
    return get


def _expired_when_forgotten(original: Any) -> Any:
    @functools.wraps(original)
    def get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        if iterator_arn not in self.shard_iterators:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("ExpiredIteratorException", "Iterator already expired")
        return original(self, iterator_arn, limit)

    setattr(get_records, MARK, original)
    return get_records


def register(table: str, reader: int) -> None:
    """A local event source reads this table's stream: records it has not delivered are kept."""
    with _positions_lock:
        _positions.setdefault(table, {})[reader] = 0


def unregister(table: str, reader: int) -> None:
    with _positions_lock:
        _positions.get(table, {}).pop(reader, None)


def delivered(table: str, reader: int, sequence_number: str, account_id: str, region: str) -> None:
    """The reader has delivered every record up to sequence_number: trim what all readers have delivered."""
    if not sequence_number.isdigit():  # not moto's numbering (a stand-in stream in a test): nothing to trim
        return
    with _positions_lock:
        readers = _positions.setdefault(table, {})
        readers[reader] = max(readers.get(reader, 0), int(sequence_number))
        up_to = min(readers.values())
    trim(table, up_to, account_id, region)


def trim(table_name: str, up_to: int, account_id: str, region: str) -> int:
    """Drop the shard's records numbered <= up_to, keeping its newest KEEP_RECORDS; returns how many went."""
    from moto.dynamodb.models import dynamodb_backends

    with LOCK:
        table = dynamodb_backends[account_id][region].tables.get(table_name)
        shard = getattr(table, "stream_shard", None)
        if shard is None:
            return 0
        count = min(up_to + 1 - shard.starting_sequence_number, len(shard.items) - KEEP_RECORDS)
        if count <= 0:
            return 0
        del shard.items[:count]
        shard.starting_sequence_number += count  # moto numbers a new record len(items) + this: unchanged
        return count
