"""DynamoDB Query in the embedded AWS without sorting the whole table with Python-level comparisons.

moto 5.2.5's `Table.query` starts from `Table.all_items()`, which sorts EVERY item of the table by
(hash key, range key) as `DynamoType` objects: each comparison is a Python `__lt__`/`__eq__` that rebuilds
both values (`cast_value`). A query of one partition then keeps the items of its hash key. So every Query
costs O(n log n) Python calls in the table's size, under the one lock every DynamoDB request of the stack
takes (local/moto_dynamodb.py): profiled across `bench/workflows.py`, the workflow table's queries were the
largest moto cost, and grew with every activation the table held (issue 13).

Two changes, each answering exactly what moto answers:
- `all_items()` sorts by the keys' cast values computed once per item (a C-level sort of str/Decimal/bytes).
  DynamoDB fixes a key attribute's type per table, so comparing the cast values orders the items as moto's
  `DynamoType` comparisons do (`__eq__` is type and cast value; `__lt__` the cast value), and the sort is
  the same stable sort;
- inside a Query of the table itself (no index) for one hash key, `all_items()` starts from that key's
  partition (`Table.items[hash_key]`, the dict moto stores it in) instead of the whole table: moto's own
  filter (`item.hash_key == hash_key`) would have kept exactly those, in that order. Index queries keep
  moto's scan of all items (only the sort is cheaper); Scan and everything else are unchanged.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_query_guard.py fails
loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

EXPECTED_MOTO = "5.2.5"
MARK = "__erphub_partition_query__"
# Table.query's parameters, in the order moto's backend passes them positionally
EXPECTED_QUERY_PARAMETERS = ("self", "hash_key", "range_comparison", "range_objs", "limit", "exclusive_start_key",
                             "scan_index_forward", "projection_expressions", "index_name")
_INDEX_NAME_POSITION = EXPECTED_QUERY_PARAMETERS.index("index_name") - 2  # in *args after self and hash_key
_querying = threading.local()  # .partition: (table, hash key) of the table query this thread is running


def table_class() -> Any:
    from moto.dynamodb.models.table import Table

    return Table


def check_compatible() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_dynamodb_query.py was written for moto {EXPECTED_MOTO}, "
                           f"found {moto.__version__}")
    table = table_class()
    query = getattr(table.query, MARK, table.query)
    parameters = tuple(inspect.signature(query).parameters)
    if parameters[:len(EXPECTED_QUERY_PARAMETERS)] != EXPECTED_QUERY_PARAMETERS:
        raise RuntimeError(f"moto's Table.query changed its parameters: {parameters}")
    source = inspect.getsource(query)
    if source.count("self.all_items()") != 2 or "item.hash_key == hash_key" not in source:
        raise RuntimeError("moto's Table.query no longer starts from all_items() filtered by the hash key")
    all_items = inspect.getsource(getattr(table.all_items, MARK, table.all_items))
    if "key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key" not in all_items:
        raise RuntimeError("moto's Table.all_items no longer sorts by (hash key, range key)")
    from moto.dynamodb.models.dynamo_type import DynamoType

    for name in ("__eq__", "__lt__"):
        if "cast_value" not in inspect.getsource(getattr(DynamoType, name)):
            raise RuntimeError(f"moto's DynamoType.{name} no longer compares cast values")


def installed() -> bool:
    return getattr(table_class().all_items, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (moto's Table class is)."""
    if installed():
        return
    check_compatible()
    table = table_class()
    table.query = _partition_scoped(table.query)
    table.all_items = _sorted_by_cast_keys(table.all_items)


def _partition_scoped(original: Any) -> Any:
    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs["index_name"] if "index_name" in kwargs else (
            args[_INDEX_NAME_POSITION] if len(args) > _INDEX_NAME_POSITION else None)
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        outer = getattr(_querying, "partition", None)
        _querying.partition = (self, hash_key)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _querying.partition = outer

    setattr(query, MARK, original)
    return query


def _order(item: Any) -> Any:
    """moto's sort key, (hash key, range key) or the hash key alone, as cast values instead of DynamoTypes."""
    return (item.hash_key.cast_value, item.range_key.cast_value) if item.range_key else item.hash_key.cast_value


def _sorted_by_cast_keys(original: Any) -> Any:
    @functools.wraps(original)
    def all_items(self: Any) -> list[Any]:
        partition = getattr(_querying, "partition", None)
        if partition is not None and partition[0] is self:
            found = self.items.get(partition[1])
            stored = [] if found is None else [found] if not self.range_key_attr else list(found.values())
        else:
            stored = [item for hash_set in self.items.values()
                      for item in (hash_set.values() if self.range_key_attr else (hash_set,))]
        return sorted(stored, key=_order)

    setattr(all_items, MARK, original)
    return all_items
