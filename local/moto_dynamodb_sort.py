"""DynamoDB's items in the embedded AWS sorted by their keys' plain values, not by Python-level comparisons.

moto 5.2.5's `Table.all_items()` (every index Query and every Scan starts from it) sorts EVERY item of the
table by (hash key, range key) as `DynamoType` objects: each comparison is a Python `__lt__`/`__eq__` that
rebuilds both values (`cast_value`), O(n log n) of them per request, under the one lock every DynamoDB request
of the stack takes (local/moto_dynamodb.py). The workflow table's index queries (erphub/store/history.py)
grow with every activation it holds (issue 13). Here the same sort uses each item's key values cast once
(str, Decimal or bytes, then a C-level comparison). DynamoDB fixes a key attribute's type per table, so the
order is moto's: `DynamoType.__eq__` is type and cast value, `__lt__` the cast value, and the sort is the same
stable sort over the same list. A base-table Query does not come here at all (local/moto_dynamodb_query.py,
which wraps this and must be installed after it).

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_sort_guard.py fails
loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

EXPECTED_MOTO = "5.2.5"
MARK = "__erphub_sorted_by_cast_keys__"
WRAPPED_LATER = "__erphub_partition_query__"  # local/moto_dynamodb_query.py's mark: it must wrap this, not under it
_SORT = "key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key"


def table_class() -> Any:
    from moto.dynamodb.models.table import Table

    return Table


def check_compatible() -> None:
    import moto
    from moto.dynamodb.models.dynamo_type import DynamoType

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_dynamodb_sort.py is for moto {EXPECTED_MOTO}, found {moto.__version__}")
    source = inspect.getsource(inspect.unwrap(table_class().all_items))
    if _SORT not in source or "for hash_set in self.items.values()" not in source:
        raise RuntimeError("moto's Table.all_items no longer sorts the table's items by (hash key, range key)")
    for name in ("__eq__", "__lt__"):
        if "cast_value" not in inspect.getsource(getattr(DynamoType, name)):
            raise RuntimeError(f"moto's DynamoType.{name} no longer compares cast values")


def installed() -> bool:
    all_items: Any = table_class().all_items
    while all_items is not None:
        if getattr(all_items, MARK, None) is not None:
            return True
        all_items = getattr(all_items, "__wrapped__", None)
    return False


def install() -> None:
    """Idempotent; process-wide (moto's Table class is). Before local/moto_dynamodb_query.install()."""
    if installed():
        return
    check_compatible()
    table = table_class()
    if getattr(table.all_items, WRAPPED_LATER, None) is not None:
        raise RuntimeError("install local/moto_dynamodb_sort before local/moto_dynamodb_query (which wraps it)")
    table.all_items = _sorted_by_cast_keys(table.all_items)


def sort_key(item: Any) -> Any:
    """moto's key, (hash key, range key) or the hash key alone, as cast values instead of DynamoTypes."""
    return (item.hash_key.cast_value, item.range_key.cast_value) if item.range_key else item.hash_key.cast_value


def _sorted_by_cast_keys(original: Any) -> Any:
    @functools.wraps(original)
    def all_items(self: Any) -> list[Any]:
        stored = [item for hash_set in self.items.values()
                  for item in (hash_set.values() if self.range_key_attr else (hash_set,))]
        return sorted(stored, key=sort_key)

    setattr(all_items, MARK, original)
    return all_items
