"""What the workflow-side stores share: the table names, item (de)serialization, ClientError -> domain errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from erphub.errors import Conflict, Permanent, Transient
from erphub.settings import get_settings


def identity_table() -> str:
    return _table("IDENTITY_TABLE", get_settings().identity_table)


def workflow_table() -> str:
    return _table("WORKFLOW_TABLE", get_settings().workflow_table)


def _table(variable: str, name: str) -> str:
    if not name:
        raise Permanent(f"{variable} is not configured", system="dynamodb")
    return name


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in item.items()}


@contextmanager
def translated(record: str) -> Iterator[None]:
    """ClientError -> Conflict (a condition failed) or Transient (anything else, worth a retry)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            raise Conflict(f"condition failed on {record}", system="dynamodb", record=record) from exc
        raise Transient(f"dynamodb {code} on {record}", system="dynamodb", record=record) from exc


# BatchWriteItem takes at most 25 puts; what DynamoDB leaves unprocessed (throttling) is written again after a pause
# that doubles, as the DynamoDB Developer Guide advises (Batch operations), this many times in all
BATCH_WRITE_LIMIT, BATCH_WRITE_ATTEMPTS, BATCH_WRITE_PAUSE = 25, 5, 0.05


def put_items(client: Any, table: str, items: list[dict[str, Any]], record: str) -> None:
    """Unconditional puts of items with distinct keys, 25 to a round trip (none is conditional, so none can fail on
    its own: an item left unprocessed is written again). Not atomic, as separate PutItems are not."""
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + BATCH_WRITE_LIMIT]]
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            with translated(record):
                answer = client.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                break
            if attempt + 1 < BATCH_WRITE_ATTEMPTS:
                time.sleep(BATCH_WRITE_PAUSE * 2 ** attempt)
        else:
            raise Transient(f"dynamodb left {len(requests)} of the writes of {record} unprocessed", system="dynamodb",
                            record=record)


def query_partition(client: Any, table: str, pk: str, prefix: str = "") -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True,
                              "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}}
    if prefix:
        kwargs["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
        kwargs["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
    items: list[dict[str, Any]] = []
    with translated(pk):
        for page in client.get_paginator("query").paginate(**kwargs):
            items += [from_item(i) for i in page["Items"]]
    return items


def update_expression(changes: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem arguments that set `changes` on an item, a None removing the attribute (as `to_item` leaves a
    None out of a whole item)."""
    names = {f"#u{i}": name for i, name in enumerate(changes)}
    values = {f":u{i}": value for i, value in enumerate(changes.values()) if value is not None}
    sets = [f"#u{i} = :u{i}" for i, value in enumerate(changes.values()) if value is not None]
    removes = [f"#u{i}" for i, value in enumerate(changes.values()) if value is None]
    expression = " ".join(part for part in (
        "SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "") if part)
    return {"UpdateExpression": expression, "ExpressionAttributeNames": names,
            **({"ExpressionAttributeValues": to_item(values)} if values else {})}
