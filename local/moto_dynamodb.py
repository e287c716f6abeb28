"""DynamoDB in the embedded AWS made atomic the way DynamoDB is: one request at a time, and a transaction
that either writes all its items or none, leaving the table and its stream untouched when cancelled.

moto 5.2.5's `transact_write_items` backs a table up with a deep copy (once per item of the transaction),
writes, and on any failure (a condition of a batch failing, which is how the inbox answers a redelivered
batch) swaps the copy in for the table. Its threaded server runs requests concurrently with no lock, so
writes other requests made during the transaction were discarded with the swap, the copy came with its own
stream shard (a stream reader holding an iterator on the old one saw nothing more), and the deep copy
raced concurrent writes ("dictionary changed size during iteration" -> 500). It also costs O(table size)
per item: with the lock below, that alone would serialize the whole stack behind the inbox's size.

Here, every DynamoDB and DynamoDB Streams backend method runs under one re-entrant lock, and
`transact_write_items` is DynamoDB's two phases: check every condition, cancel with the reasons before any
write; otherwise write, and should a write still fail (a validation error of an update), put back the few
items it touched and drop their stream records. No table is ever replaced.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_guard.py fails
loudly if what this relies on changes.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local import pinned

EXPECTED_MOTO = "5.2.5"
EXPECTED_TRANSACT_PARAMETERS = ("self", "transact_items")
# the keyword arguments our transaction passes to moto's own single-item writes
EXPECTED_WRITE_PARAMETERS = {
    "put_item": {"condition_expression", "expression_attribute_names", "expression_attribute_values"},
    "delete_item": {"condition_expression", "expression_attribute_names", "expression_attribute_values"},
    "update_item": {"update_expression", "condition_expression", "expression_attribute_names",
                    "expression_attribute_values"},
}
# these must be among the locked methods (every public method of both backends is)
MUST_LOCK = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items", "get_item",
             "batch_get_item", "transact_get_items", "query", "scan", "execute_statement", "execute_transaction",
             "batch_execute_statement", "create_table", "delete_table", "update_table", "get_records",
             "get_shard_iterator", "describe_stream")
MAX_TRANSACTION_ITEMS = 100
MARK = "__erphub_locked__"
LOCK = threading.RLock()  # one for both backends: a stream read must not see a transaction half done
Outcome = tuple[str | None, str | None, dict[str, Any] | None]  # moto's (code, message, item) per transact item
_OK: Outcome = (None, None, None)


def backends() -> tuple[Any, Any]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    return DynamoDBBackend, DynamoDBStreamsBackend


def public_methods(cls: type) -> list[str]:
    """The methods a request handler calls (staticmethods and properties touch no table)."""
    return sorted(n for n, v in vars(cls).items() if not n.startswith("_") and inspect.isfunction(v))


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    dynamodb, streams = backends()
    missing = set(MUST_LOCK) - set(public_methods(dynamodb)) - set(public_methods(streams))
    if missing:
        raise RuntimeError(f"moto's DynamoDB backends lost methods local/moto_dynamodb.py locks: {sorted(missing)}")
    transact = getattr(dynamodb.transact_write_items, MARK, dynamodb.transact_write_items)
    if tuple(inspect.signature(transact).parameters) != EXPECTED_TRANSACT_PARAMETERS:
        raise RuntimeError(f"moto transact_write_items changed signature: {inspect.signature(transact)}")
    for name, expected in EXPECTED_WRITE_PARAMETERS.items():
        method = getattr(getattr(dynamodb, name), MARK, getattr(dynamodb, name))
        if not expected <= set(inspect.signature(method).parameters):
            raise RuntimeError(f"moto DynamoDBBackend.{name} changed signature: {inspect.signature(method)}")


def installed() -> bool:
    return all(getattr(getattr(cls, name), MARK, None) is not None
               for cls in backends() for name in public_methods(cls))


def install() -> None:
    """Idempotent; process-wide (moto's backends are)."""
    if installed():
        return
    check_compatible()
    for cls in backends():
        for name in public_methods(cls):
            method = getattr(cls, name)
            if getattr(method, MARK, None) is not None:
                continue
            if cls.__name__ == "DynamoDBBackend" and name == "transact_write_items":
                setattr(cls, name, _locked(transact_write_items, original=method))
            else:
                setattr(cls, name, _locked(method))


def _locked(method: Callable[..., Any], original: Callable[..., Any] | None = None) -> Callable[..., Any]:
    @functools.wraps(original or method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(*args, **kwargs)

    setattr(locked, MARK, original or method)
    return locked


@dataclass
class _Write:
    op_type: str
    op: dict[str, Any]
    key: dict[str, Any]


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """All or nothing; runs under LOCK (install wraps it), so nothing changes between the two phases."""
    from moto.dynamodb.exceptions import TooManyTransactionsException, TransactionCanceledException

    if len(transact_items) > MAX_TRANSACTION_ITEMS:
        raise TooManyTransactionsException()
    writes, outcomes = _check_all(backend, transact_items)
    if any(code for code, _, _ in outcomes):
        raise TransactionCanceledException(outcomes)
    before = _Snapshot(backend, writes)
    outcomes = [_write(backend, w) for w in writes]
    if any(code for code, _, _ in outcomes):
        before.restore()
        raise TransactionCanceledException(outcomes)


def _check_all(backend: Any, transact_items: list[dict[str, Any]]) -> tuple[list[_Write], list[Outcome]]:
    """Phase one, no writes: the shape of each item (raised as moto does) and each condition (an outcome)."""
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TransactWriteSingleOpException,
    )

    writes: list[_Write] = []
    outcomes: list[Outcome] = []
    seen: set[tuple[str, str]] = set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        try:
            if op_type not in ("ConditionCheck", "Put", "Delete", "Update"):
                raise ValueError("Unsupported transaction operation")
            write = _Write(op_type, op, _key(backend, op_type, op))
            target = (str(op["TableName"]), str(dict(sorted(write.key.items()))))
            if target in seen:
                raise MultipleTransactionsException()
            seen.add(target)
            outcomes.append(_condition(backend, write))
            writes.append(write)
        except (MultipleTransactionsException, MockValidationException):
            raise
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc), None))
    return writes, outcomes


def _key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table, attrs = backend.get_table(op["TableName"]), op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _condition(backend: Any, write: _Write) -> Outcome:
    from moto.dynamodb.comparisons import get_filter_expression

    expression = write.op.get("ConditionExpression")
    if expression is None:
        return _OK
    current = backend.get_item(write.op["TableName"], write.key)
    holds = get_filter_expression(expression, write.op.get("ExpressionAttributeNames"),
                                  write.op.get("ExpressionAttributeValues")).expr(current)
    if holds:
        return _OK
    all_old = write.op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None
    old = current.to_json()["Attributes"] if all_old else None
    return "ConditionalCheckFailed", "The conditional request failed", old


def _write(backend: Any, write: _Write) -> Outcome:
    """Phase two: one write as moto's own transaction makes it (its condition holds: nothing ran in between)."""
    op, table_name = write.op, write.op["TableName"]
    expressions = {"condition_expression": op.get("ConditionExpression"),
                   "expression_attribute_names": op.get("ExpressionAttributeNames"),
                   "expression_attribute_values": op.get("ExpressionAttributeValues")}
    try:
        if write.op_type == "Put":
            backend.put_item(table_name, op["Item"], **expressions)
        elif write.op_type == "Delete":
            backend.delete_item(table_name, write.key, **expressions)
        elif write.op_type == "Update":
            backend.update_item(table_name, write.key, update_expression=op["UpdateExpression"], **expressions)
    except Exception as exc:
        return type(exc).__name__, str(exc), None
    return _OK


class _Snapshot:
    """The items a transaction is about to write, and each table's stream length, to undo a failed phase two."""

    def __init__(self, backend: Any, writes: list[_Write]) -> None:
        self.items: list[tuple[Any, Any, Any, Any]] = []
        self.streams: dict[int, tuple[Any, int]] = {}
        for write in writes:
            table = backend.get_table(write.op["TableName"])
            hash_value, range_value = backend.get_keys_value(table, write.key)
            self.items.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
            if table.stream_shard is not None:
                self.streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))

    def restore(self) -> None:
        for table, hash_value, range_value, old in reversed(self.items):
            if range_value is None:
                if old is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = old
            elif old is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = old
        for shard, length in self.streams.values():
            del shard.items[length:]  # the partial writes never happened, so neither did their records
