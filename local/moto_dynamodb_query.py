"""A DynamoDB Query on a table's own key in the embedded AWS reads the one partition it names, not the whole table.

moto 5.2.5's `Table.query` finds a base-table query's items with `[item for item in self.all_items() if
item.hash_key == hash_key]`, and `all_items()` lists and sorts every item of the table (Python-level DynamoType
comparisons) on every call. Its cost grows with the table: in `bench/workflows.py --deals 200` (issue 13) Queries
took about 30 % of the local stack's CPU, 5 % at 30 deals. The items of one partition are `Table.items[hash_key]`;
while a base-table query runs, `all_items()` answers with those (this thread only), and moto's own code does the
rest (range conditions, order, limits, pagination, filters, projections). Index queries and scans are untouched.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_query_guard.py fails
loudly if `Table.query` stops finding a base-table query's items this way, and compares answers with moto's own.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

EXPECTED_MOTO = "5.2.5"
MARK = "__erphub_partition_query__"
_SCAN = "for item in self.all_items()\n                if isinstance(item, Item) and item.hash_key == hash_key"
_querying = threading.local()


def table_class() -> Any:
    from moto.dynamodb.models.table import Table

    return Table


def check_compatible() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_dynamodb_query.py is for moto {EXPECTED_MOTO}, found {moto.__version__}")
    table = table_class()
    source = inspect.getsource(getattr(table.query, MARK, table.query))
    if _SCAN not in source:
        raise RuntimeError("moto's Table.query no longer finds a base-table query's items in all_items()")


def install() -> None:
    """Idempotent; process-wide (moto's model classes are)."""
    table = table_class()
    if getattr(table.query, MARK, None) is not None:
        return
    check_compatible()
    table.all_items = _all_items(table.all_items)
    table.query = _query(table.query)


def _query(original: Any) -> Any:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name")
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
    def all_items(self: Any) -> Any:
        partition = getattr(_querying, "partition", None)
        if partition is not None and partition[0] is self:
            return partition[1]
        return original(self)

    setattr(all_items, MARK, original)
    return all_items
