"""local/moto_dynamodb_query.py, its sort: index queries, scans and partition queries answer in moto's order (numbers as
numbers, pages, both directions), the table's items are sorted exactly as moto's DynamoType comparisons sort them,
and the moto internals it relies on are still the ones it was written for."""

from __future__ import annotations

import inspect
import uuid
from decimal import Decimal

import pytest

from local import moto_dynamodb_query

pytestmark = pytest.mark.integration

RANGES = ["10", "9", "1.5", "-2", "100", "0.25", "3"]  # numbers that sort differently as text


def test_the_wrapped_moto_internals_are_still_what_the_module_expects(stack):
    import moto

    assert moto.__version__ == moto_dynamodb_query.EXPECTED_MOTO, "re-check local/moto_dynamodb_query.py"
    moto_dynamodb_query.check_compatible()
    assert moto_dynamodb_query.installed()  # by the stack
    moto_dynamodb_query.install()  # idempotent: wraps once
    all_items = moto_dynamodb_query.table_class().all_items
    assert getattr(all_items, moto_dynamodb_query.MARK).__qualname__ == "Table.all_items"


@pytest.fixture
def orders(stack):
    """A table keyed (customer S, seq N) with an index (status S, placed S), three customers' orders."""
    ddb = stack.client("dynamodb")
    name = f"orders-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                           (("customer", "S"), ("seq", "N"), ("status", "S"), ("placed", "S"))],
                     KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                                {"AttributeName": "seq", "KeyType": "RANGE"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by_status", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                                            {"AttributeName": "placed", "KeyType": "RANGE"}]}])
    for customer in ("c-b", "c-a", "c-c"):
        for n, seq in enumerate(RANGES):
            ddb.put_item(TableName=name, Item={"customer": {"S": customer}, "seq": {"N": seq},
                                               "status": {"S": "open" if n % 2 else "closed"},
                                               "placed": {"S": f"2024-0{n % 3 + 1}-{n:02d}"}})
    yield ddb, name
    ddb.delete_table(TableName=name)


def test_a_partition_query_answers_its_items_in_range_key_order_forward_backward_and_in_pages(orders):
    ddb, name = orders
    expected = sorted(RANGES, key=Decimal)
    query = {"TableName": name, "KeyConditionExpression": "customer = :c",
             "ExpressionAttributeValues": {":c": {"S": "c-a"}}}
    forward = [i["seq"]["N"] for i in ddb.query(**query)["Items"]]
    backward = [i["seq"]["N"] for i in ddb.query(**query, ScanIndexForward=False)["Items"]]
    pages = [i["seq"]["N"] for page in ddb.get_paginator("query").paginate(**query, PaginationConfig={"PageSize": 3})
             for i in page["Items"]]
    ranged = ddb.query(TableName=name, KeyConditionExpression="customer = :c AND seq > :s",
                       ExpressionAttributeValues={":c": {"S": "c-a"}, ":s": {"N": "2"}})["Items"]
    assert forward == expected and backward == expected[::-1] and pages == expected
    assert [i["seq"]["N"] for i in ranged] == [s for s in expected if Decimal(s) > 2]
    assert ddb.query(**{**query, "ExpressionAttributeValues": {":c": {"S": "nobody"}}})["Items"] == []


def test_an_index_query_and_a_scan_answer_as_moto_does(orders, stack):
    from moto.dynamodb.models import dynamodb_backends

    ddb, name = orders
    items = ddb.query(TableName=name, IndexName="by_status", KeyConditionExpression="#s = :s",
                      ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": {"S": "open"}})["Items"]
    assert [i["placed"]["S"] for i in items] == sorted(i["placed"]["S"] for i in items) and len(items) == 9
    # the whole table in moto's own order: the original all_items() and the one installed agree item for item
    table = dynamodb_backends[stack.aws.account_id]["us-east-1"].get_table(name)
    original = inspect.unwrap(moto_dynamodb_query.table_class().all_items)
    assert table.all_items() == original(table)
    assert [(i.hash_key.value, i.range_key.value) for i in table.all_items()][:3] == [("c-a", "-2"), ("c-a", "0.25"),
                                                                                     ("c-a", "1.5")]
    scanned = ddb.scan(TableName=name)["Items"]
    assert len(scanned) == 3 * len(RANGES)


def test_a_hash_only_table_answers_its_one_item(stack):
    ddb = stack.client("dynamodb")
    name = f"single-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    try:
        for pk in ("b", "a", "c"):
            ddb.put_item(TableName=name, Item={"pk": {"S": pk}, "v": {"S": pk * 2}})
        answer = ddb.query(TableName=name, KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "a"}})
        assert answer["Items"] == [{"pk": {"S": "a"}, "v": {"S": "aa"}}] and answer["Count"] == 1
        assert [i["pk"]["S"] for i in ddb.scan(TableName=name)["Items"]] == ["a", "b", "c"]
    finally:
        ddb.delete_table(TableName=name)
