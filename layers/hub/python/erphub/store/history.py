"""Bounded reads for a business transaction's run history (operations/timeline.py): every read here is one
query or a capped number of pages, and says when it stopped short.

- the inbox's `lookup` index: every webhook whose canonical event has the business key (lookup = business#<key>)
- the workflow table: a run's partition (RUN#<correlation id>: status, records created, refusals, signals) and
  the exceptions (EXC#..., a scan today: the table has no index by correlation id)
- the identity table: a customer's partition (CUSTOMER#<id>: ids in each system, contracts)
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Transient
from erphub.settings import get_settings
from erphub.store.inbox import lookup_key
from erphub.store.tables import from_item, identity_table, translated, workflow_table

MAX_SCAN_PAGES = 20


def webhooks_of(business_key: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The inbox items of a business key, oldest first, with their canonical events; (items, truncated)."""
    lookup = lookup_key("accepted", business_key)
    if not lookup:
        return [], False
    table, ddb = get_settings().inbox_table, aws.client("dynamodb")
    try:
        response = ddb.query(TableName=table, IndexName="lookup", Limit=limit,
                             KeyConditionExpression="lookup = :key",
                             ExpressionAttributeValues={":key": {"S": lookup}})
    except ClientError as exc:
        raise Transient(f"could not read the webhooks of {business_key}", system="dynamodb") from exc
    items = [from_item(i) for i in response["Items"]]
    events = _events(table, [i["pk"] for i in items])
    return [{**i, "event": events.get(i["pk"], "")} for i in items], "LastEvaluatedKey" in response


def _events(table: str, keys: list[str]) -> dict[str, str]:
    """pk -> canonical event JSON (the index does not project it: it may be up to 256 KB)."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": k}} for k in keys[start:start + 100]],
                                           "ProjectionExpression": "pk, #e",
                                           "ExpressionAttributeNames": {"#e": "event"}}}
        while request:
            try:
                response = aws.client("dynamodb").batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise Transient("could not read canonical events", system="dynamodb") from exc
            found |= {i["pk"]["S"]: i.get("event", {}).get("S", "") for i in response["Responses"].get(table, [])}
            request = response.get("UnprocessedKeys") or {}
    return found


def run_items(correlation_id: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """A run's partition: STATUS#<workflow>#<version>, REC#..., REFUSED#..., SIGNAL#... (at most `limit` items)."""
    return _partition(workflow_table(), f"RUN#{correlation_id}", limit)


def customer_items(customer_id: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """A customer's partition in the identity table: XREF#<system>#<entity> ids and CONTRACT#<id> entries."""
    return _partition(identity_table(), f"CUSTOMER#{customer_id}", limit)


def _partition(table: str, pk: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    with translated(pk):
        response = aws.client("dynamodb").query(
            TableName=table, ConsistentRead=True, Limit=limit, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}})
    return [from_item(i) for i in response["Items"]], "LastEvaluatedKey" in response


def exceptions_of(correlation_ids: set[str]) -> tuple[list[dict[str, Any]], bool]:
    """Every exception (open or closed) of these runs; a scan of at most MAX_SCAN_PAGES pages."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": workflow_table(), "FilterExpression": "sk = :exc",
                               "ExpressionAttributeValues": {":exc": {"S": "EXC"}}}
    with translated("exceptions"):
        for _ in range(MAX_SCAN_PAGES):
            page = aws.client("dynamodb").scan(**request)
            found += [e for e in map(from_item, page["Items"]) if e.get("correlation_id") in correlation_ids]
            if "LastEvaluatedKey" not in page:
                return found, False
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found, True
