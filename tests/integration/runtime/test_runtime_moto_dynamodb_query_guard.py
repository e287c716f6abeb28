"""local/moto_dynamodb_query.py: every kind of Query answers exactly what moto's own full-table search answers
(range conditions, order, limits and pages, filters, projections, indexes, hash-only tables, a missing partition),
and the moto internals it relies on are still the ones it was written for."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import moto_dynamodb_query

pytestmark = pytest.mark.integration

QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p1"}}},
    {"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
     "ExpressionAttributeValues": {":p": {"S": "p2"}, ":s": {"S": "REC#"}}},
    {"KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
     "ExpressionAttributeValues": {":p": {"S": "p3"}, ":a": {"S": "REC#02"}, ":b": {"S": "REC#05"}}},
    {"KeyConditionExpression": "pk = :p", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "p1"}}},
    {"KeyConditionExpression": "pk = :p", "FilterExpression": "n > :n", "ProjectionExpression": "sk, n",
     "ExpressionAttributeValues": {":p": {"S": "p4"}, ":n": {"N": "3"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    {"IndexName": "by-kind", "KeyConditionExpression": "kind = :k",
     "ExpressionAttributeValues": {":k": {"S": "odd"}}},
]


def _pages(ddb: Any, **query: Any) -> list[dict[str, Any]]:
    """Every page of the query, two items a page."""
    pages, start = [], None
    while True:
        page = ddb.query(TableName="t", Limit=2, **query, **({"ExclusiveStartKey": start} if start else {}))
        pages.append({k: page.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def _run_all() -> list[Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                               for a in ("pk", "sk", "kind")],
                         GlobalSecondaryIndexes=[{"IndexName": "by-kind", "Projection": {"ProjectionType": "ALL"},
                                                  "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}]}])
        ddb.create_table(TableName="h", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        for n in range(40):  # written out of key order, across partitions
            number = (n * 7) % 40
            ddb.put_item(TableName="t", Item={"pk": {"S": f"p{number % 5}"}, "sk": {"S": f"REC#{number:02d}"},
                                              "n": {"N": str(number % 9)},
                                              "kind": {"S": "odd" if number % 2 else "even"}})
            ddb.put_item(TableName="h", Item={"pk": {"S": f"h{number}"}, "n": {"N": str(number)}})
        answers: list[Any] = [ddb.query(TableName="t", **q)["Items"] for q in QUERIES]
        answers += [_pages(ddb, **q) for q in QUERIES]
        answers.append(ddb.query(TableName="h", KeyConditionExpression="pk = :p",
                                 ExpressionAttributeValues={":p": {"S": "h7"}})["Items"])
        answers.append(ddb.scan(TableName="t", Limit=7)["Items"])
        return answers


def test_the_moto_internals_are_still_what_the_module_expects():
    moto_dynamodb_query.check_compatible()
    moto_dynamodb_query.install()
    moto_dynamodb_query.install()  # idempotent
    table = moto_dynamodb_query.table_class()
    assert getattr(table.query, moto_dynamodb_query.MARK) is not None


def test_queries_answer_what_moto_answers_searching_the_whole_table(monkeypatch):
    moto_dynamodb_query.install()
    by_partition = _run_all()
    table = moto_dynamodb_query.table_class()
    monkeypatch.setattr(table, "query", getattr(table.query, moto_dynamodb_query.MARK))
    monkeypatch.setattr(table, "all_items", getattr(table.all_items, moto_dynamodb_query.MARK))
    assert by_partition == _run_all()
    assert by_partition[0] and by_partition[len(QUERIES)]  # the queries found something to compare
