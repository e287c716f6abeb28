"""local/moto_dynamodb_items.py: an item is built with the attributes, types and refusals moto's own per-attribute
size check gives (at the same attribute, with the same error), and the moto internals it relies on are still the
ones it was written for."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import moto_dynamodb_items

pytestmark = pytest.mark.integration

ATTRS = {"pk": {"S": "k"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\x01"}, "l": {"L": [{"S": "x"}, {"N": "1"}]},
         "m": {"M": {"deep": {"M": {"s": {"S": "é"}}}}}, "ss": {"SS": ["a", "b"]}, "t": {"BOOL": True},
         "z": {"NULL": True}}
BIG = "x" * 150_000


def _outcomes(item_class: Any, error: type[Exception]) -> list[Any]:
    built = item_class(None, None, ATTRS)
    answers: list[Any] = [{k: (v.type, v.value) for k, v in built.attrs.items()}, type(built.attrs).__name__]
    # over the limit at the third big attribute; the malformed value after it is never reached
    for attrs in ({"a": {"S": BIG}, "b": {"S": BIG}, "c": {"S": BIG}, "d": {"X": "malformed"}},
                  {"a": {"S": BIG}, "b": {"S": BIG}, "c": {"S": "x" * 104_990}}):
        try:
            answers.append(sorted(item_class(None, None, attrs).attrs))
        except error as exc:
            answers.append(type(exc).__name__)
        except Exception as exc:  # any other error: the comparison is what matters, the same error both ways
            answers.append(f"other: {type(exc).__name__}")
    return answers


def _put_too_large() -> dict[str, Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        with pytest.raises(ddb.exceptions.ClientError) as refused:
            ddb.put_item(TableName="t", Item={"pk": {"S": "k"}, **{f"a{i}": {"S": BIG} for i in range(3)}})
        return refused.value.response["Error"]


def test_the_moto_internals_are_still_what_the_module_expects():
    moto_dynamodb_items.check_compatible()
    moto_dynamodb_items.install()
    moto_dynamodb_items.install()  # idempotent
    assert getattr(moto_dynamodb_items.dynamo_type().Item.__init__, moto_dynamodb_items.MARK) is not None


def test_items_and_refusals_are_moto_own(monkeypatch):
    moto_dynamodb_items.install()
    module = moto_dynamodb_items.dynamo_type()
    counted_once = _outcomes(module.Item, module.ItemSizeTooLarge), _put_too_large()
    monkeypatch.setattr(module.Item, "__init__", getattr(module.Item.__init__, moto_dynamodb_items.MARK))
    assert counted_once == (_outcomes(module.Item, module.ItemSizeTooLarge), _put_too_large())
    assert counted_once[0][2:] == ["ItemSizeTooLarge", ["a", "b", "c"]]
