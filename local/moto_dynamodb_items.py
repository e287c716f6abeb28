"""A DynamoDB item in the embedded AWS is built with one size count, not one per attribute.

moto 5.2.5 builds an `Item` by setting its attributes one by one into a `LimitedSizeDict`, whose `__setitem__`
sums the size of every attribute already set (to refuse an item over DynamoDB's 400 KB): a put of n attributes
measures about n²/2 of them. For the webhook inbox's 17 attributes that is ~18 % of moto's PutItem time (profiled
for issue 13), a cost that grows with the item and that DynamoDB does not have. A fresh item's attributes are
distinct, so the sum `__setitem__` checks at each step is the running total of the attributes before it: this
keeps that total as it goes and refuses at the same attribute, with the same error. Every later change to an
item (update expressions) still goes through `LimitedSizeDict.__setitem__`.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_items_guard.py fails
loudly if `Item.__init__` or the size check change, and compares items and refusals with moto's own.
"""

from __future__ import annotations

import inspect
from typing import Any

from local import pinned

EXPECTED_MOTO = "5.2.5"
MARK = "__erphub_one_size_count__"
LIMIT = 405000  # moto's own (between DynamoDB's measured 409 and 410 KB)
_BUILD = ("self.attrs = LimitedSizeDict()\n        for key, value in attrs.items():\n"
          "            self.attrs[key] = DynamoType(value)")
_CHECK = "if (current_item_size + new_item_size) > 405000:\n            raise ItemSizeTooLarge"


def dynamo_type() -> Any:
    from moto.dynamodb.models import dynamo_type as module

    return module


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    module = dynamo_type()
    init = getattr(module.Item.__init__, MARK, module.Item.__init__)
    if _BUILD not in inspect.getsource(init):
        raise RuntimeError("moto's DynamoDB Item no longer sets its attributes one by one into a LimitedSizeDict")
    if _CHECK not in inspect.getsource(module.LimitedSizeDict.__setitem__):
        raise RuntimeError("moto's LimitedSizeDict no longer refuses an item over 405000 bytes that way")


def install() -> None:
    """Idempotent; process-wide (moto's model classes are)."""
    module = dynamo_type()
    if getattr(module.Item.__init__, MARK, None) is not None:
        return
    check_compatible()
    original = module.Item.__init__
    limited, convert, bytesize = module.LimitedSizeDict, module.DynamoType, module.bytesize
    too_large = module.ItemSizeTooLarge

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = limited()
        total = 0
        for key, value in attrs.items():
            value = convert(value)
            total += bytesize(key) + value.size()
            if total > LIMIT:
                raise too_large
            dict.__setitem__(self.attrs, key, value)

    setattr(__init__, MARK, original)
    module.Item.__init__ = __init__
