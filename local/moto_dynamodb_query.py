"""DynamoDB queries and scans in the embedded AWS without moto's whole-table search and Python-level sort.

moto 5.2.5 starts every Query and Scan from `Table.all_items()`, which lists EVERY item of the table and sorts
them by (hash key, range key) as `DynamoType` objects: each comparison a Python `__lt__`/`__eq__` that rebuilds
both values (`cast_value`). A base-table Query then keeps the items of its one partition
(`[item for item in self.all_items() if ... item.hash_key == hash_key]`). The cost grows with the table: in
`bench/workflows.py --deals 200` (issue 13) Queries were about 30 % of the local stack's CPU, 5 % at 30 deals.

- A base-table Query reads its partition, `Table.items[hash_key]`: while it runs, `all_items()` answers with
  those items (this thread only), and moto's own code does the rest (range conditions, order, limits, pages,
  filters, projections).
- Every other caller (index queries, scans) gets the table sorted by its keys' values cast once per item (str,
  Decimal or bytes, compared in C). DynamoDB fixes a key attribute's type per table, so the order is moto's:
  `DynamoType.__eq__` is type and cast value, `__lt__` the cast value, and the sort is the same stable sort.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_{query,sort}_guard.py
fail loudly if what this relies on changes, and compare answers and orders with moto's own.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

from local import pinned

EXPECTED_MOTO = "5.2.5"
MARK = "__erphub_partition_query__"
_SCAN = "for item in self.all_items()\n                if isinstance(item, Item) and item.hash_key == hash_key"
_SORT = "key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key"
_querying = threading.local()


def table_class() -> Any:
    from moto.dynamodb.models.table import Table

    return Table


def check_compatible() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    pinned.require("moto", EXPECTED_MOTO, __name__)
    table = table_class()
    if _SCAN not in inspect.getsource(inspect.unwrap(table.query)):
        raise RuntimeError("moto's Table.query no longer finds a base-table query's items in all_items()")
    all_items = inspect.getsource(inspect.unwrap(table.all_items))
    if _SORT not in all_items or "for hash_set in self.items.values()" not in all_items:
        raise RuntimeError("moto's Table.all_items no longer sorts the table's items by (hash key, range key)")
    for name in ("__eq__", "__lt__"):
        if "cast_value" not in inspect.getsource(getattr(DynamoType, name)):
            raise RuntimeError(f"moto's DynamoType.{name} no longer compares cast values")


def installed() -> bool:
    return getattr(table_class().query, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (moto's model classes are)."""
    if installed():
        return
    check_compatible()
    table = table_class()
    table.all_items = _all_items(table.all_items)
    table.query = _query(table.query)


def sort_key(item: Any) -> Any:
    """moto's key, (hash key, range key) or the hash key alone, as cast values instead of DynamoTypes."""
    return (item.hash_key.cast_value, item.range_key.cast_value) if item.range_key else item.hash_key.cast_value


def _query(original: Any) -> Any:
    # where index_name comes in *args when passed by position (moto's backend does), after self and hash_key
    position = list(inspect.signature(original).parameters).index("index_name") - 2

    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[position] if len(args) > position else None)
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)  # .get: `items` is a defaultdict, a lookup must not add a partition
        _querying.partition = (self, [] if found is None else list(found.values()) if self.range_key_attr
                               else [found])
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _querying.partition = None

    setattr(query, MARK, original)
    return query


def _all_items(original: Any) -> Any:
    @functools.wraps(original)
    def all_items(self: Any) -> list[Any]:
        partition = getattr(_querying, "partition", None)
        if partition is not None and partition[0] is self:
            return partition[1]
        stored = [item for hash_set in self.items.values()
                  for item in (hash_set.values() if self.range_key_attr else (hash_set,))]
        return sorted(stored, key=sort_key)

    setattr(all_items, MARK, original)
    return all_items
