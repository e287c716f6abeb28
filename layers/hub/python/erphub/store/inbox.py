"""The inbox: one item per vendor event, written once with a condition.

That single conditional write is the dedup record, the durable raw archive and the outbox of the bus at
once (DESIGN rule 1). The table's stream feeds the publisher; the sparse `unpublished` index feeds the
sweeper that republishes anything the stream path missed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Transient
from erphub.settings import get_settings

# received: stored raw by the ack path, waiting to be mapped and published (erphub.ingest.mapping); accepted: a
# canonical event waiting for the bus (a replayed quarantine, or an item the ack path mapped before mapping moved to
# the publisher); then published, quarantined (kept for repair) or ignored (not routed)
RECEIVED, ACCEPTED, IGNORED, QUARANTINED, PUBLISHED = "received", "accepted", "ignored", "quarantined", "published"
WAITING = (RECEIVED, ACCEPTED)  # the outbox: what the publisher and the sweeper still owe the bus
LOOKUP_QUARANTINED = "quarantined"
# DynamoDB's limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html):
# an item holds at most 400 KB; a partition key at most 2048 bytes; TransactWriteItems takes at most 100
# actions and 4 MB in all
MAX_ITEM_BYTES = 400 * 1024
MAX_KEY_BYTES = 2048
_MAX_TRANSACTION_ITEMS = 100
_MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


@dataclass
class InboxItem:
    source: str
    source_event_id: str
    vendor_type: str
    status: str
    event_id: str
    correlation_id: str
    received_at: datetime
    raw_body: bytes
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    event_type: str = ""
    business_key: str = ""
    event_json: str = ""
    reason: str = ""
    raw_ref: str = ""

    @property
    def key(self) -> str:
        return inbox_key(self.source, self.source_event_id)

    def to_item(self, ttl_days: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": self.key},
            "source": {"S": self.source},
            "source_event_id": {"S": self.source_event_id},
            "vendor_type": {"S": self.vendor_type or "-"},
            "status": {"S": self.status},
            "event_id": {"S": self.event_id},
            "correlation_id": {"S": self.correlation_id},
            "received_at": {"S": self.received_at.isoformat()},
            "headers": {"M": {k: {"S": v} for k, v in self.headers.items()}},
        }
        if self.raw_ref:
            item["raw_ref"] = {"S": self.raw_ref}
        else:
            item["raw_body"] = {"B": self.raw_body}
        for name in ("content_type", "event_type", "business_key", "reason"):
            if value := getattr(self, name):
                item[name] = {"S": value}
        if self.status in WAITING:
            item["unpublished"] = {"S": "1"}
        if self.event_json:
            item["event"] = {"S": self.event_json}
        if lookup := lookup_key(self.status, self.business_key):
            item["lookup"] = {"S": lookup}
        if self.status != QUARANTINED:  # quarantined items wait for repair; they never expire on their own
            expires = self.received_at + timedelta(days=ttl_days)
            item["expires_at"] = {"N": str(int(expires.timestamp()))}
        return item


def lookup_key(status: str, business_key: str) -> str:
    """The item's key in the sparse `lookup` index: "quarantined" (the operators' repair list), or
    "business#<key>" (a deal's or contract's run history); "" keeps it out of the index."""
    if status == QUARANTINED:
        return LOOKUP_QUARANTINED
    key = f"business#{business_key}" if business_key else ""
    return key if len(key.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES else ""


def inbox_key(source: str, source_event_id: str) -> str:
    return f"{source}#{source_event_id}"


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (attribute names + values, UTF-8), rounded up where the
    documented rule is approximate (numbers, map overhead), so a check against the limit is safe."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode("utf-8", "surrogatepass"))
    if kind == "B":
        return len(content)
    if kind == "N":
        return len(content) // 2 + 2
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_bytes(v) + 1 for k, v in content.items())
    return len(str(content)) + 3


def store_new(items: list[InboxItem]) -> set[str]:
    """Write the items that are not in the inbox yet; returns the keys that were already there (duplicates).

    One item is one conditional PutItem; several (a Salesforce or HubSpot batch) are one transaction of
    conditional puts, retried without the duplicates if some were delivered before.
    """
    settings = get_settings()
    duplicates: set[str] = set()
    for chunk in _transactions([item.to_item(settings.inbox_ttl_days) for item in items]):
        pending = chunk
        while pending:
            clashes = _write(list(pending.values()), settings.inbox_table)
            duplicates |= clashes
            pending = {k: v for k, v in pending.items() if k not in clashes} if clashes else {}
    return duplicates


def _transactions(items: list[dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """Distinct items (a key twice in one transaction is a ValidationException) in groups within
    TransactWriteItems' limits. Each item is independent, so a later group failing only makes the vendor
    retry; the groups already written answer as duplicates then."""
    if len(items) == 1:  # one PutItem (nearly every webhook): nothing to group, no size to add up
        return [{items[0]["pk"]["S"]: items[0]}]
    groups: list[dict[str, dict[str, Any]]] = [{}]
    size = 0
    for item in items:
        key, item_size = item["pk"]["S"], item_bytes(item)
        if key in groups[-1] or any(key in g for g in groups[:-1]):
            continue
        if len(groups[-1]) >= _MAX_TRANSACTION_ITEMS or size + item_size > _MAX_TRANSACTION_BYTES:
            groups.append({})
            size = 0
        groups[-1][key] = item
        size += item_size
    return [g for g in groups if g]


def _write(items: list[dict[str, Any]], table: str) -> set[str]:
    condition = "attribute_not_exists(pk)"
    ddb = aws.unvalidated_client("dynamodb")  # the ack path's one write: items built by InboxItem.to_item
    try:
        if len(items) == 1:
            ddb.put_item(TableName=table, Item=items[0], ConditionExpression=condition)
        else:
            ddb.transact_write_items(
                TransactItems=[{"Put": {"TableName": table, "Item": i, "ConditionExpression": condition}}
                               for i in items]
            )
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            return {items[0]["pk"]["S"]}
        if code == "TransactionCanceledException":
            reasons = exc.response.get("CancellationReasons", [])
            clashes = {i["pk"]["S"] for i, r in zip(items, reasons, strict=False)
                       if r.get("Code") == "ConditionalCheckFailed"}
            if clashes:
                return clashes
        raise Transient(f"inbox write failed: {code}", system="dynamodb", record=items[0]["pk"]["S"]) from exc
    return set()


def mark_published(key: str, published: dict[str, Any] | None = None) -> bool:
    """Waiting -> published, once; False if it was no longer waiting (published meanwhile). `published` is the whole
    item of a received webhook the publisher mapped (`published_item`), written back as one conditional PutItem: moto
    handles it in ~1.5 ms, an UpdateItem setting its six new attributes in ~3.6 (DynamoDB charges either by the item's
    size). Without it (an accepted item: its event was stored before), only the status changes."""
    now = datetime.now(UTC).isoformat()
    if published is None:
        return _transition(key, PUBLISHED, {"published_at": now}, remove=("unpublished",))
    try:
        aws.client("dynamodb").put_item(
            TableName=get_settings().inbox_table, Item=published | {"published_at": {"S": now}},
            ConditionExpression="#s = :received",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":received": {"S": RECEIVED}})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise Transient(f"could not mark {key} published", system="dynamodb", record=key) from exc
    return True


def published_item(received: dict[str, Any], event: dict[str, str]) -> dict[str, Any]:
    """A received item (attribute values, its raw body as bytes) as it is once published with its canonical event
    (`event`: event, event_type, business_key, correlation_id): out of the backlog, in the business lookup."""
    item = {name: value for name, value in received.items() if name != "unpublished"}
    item |= {name: {"S": value} for name, value in event.items() if value}
    item["status"] = {"S": PUBLISHED}  # and published_at, once the bus has it (mark_published)
    if lookup := lookup_key(PUBLISHED, event.get("business_key", "")):
        item["lookup"] = {"S": lookup}
    return item


def mark_quarantined(key: str, reason: str, expected: tuple[str, ...] = WAITING) -> bool:
    """`expected` -> quarantined, out of the backlog, kept without expiry for repair and replay (its content cannot be
    mapped: expected received only; or the sweeper found it cannot be published); False if it was not in an
    expected state (published meanwhile; replayed by an operator since a retried stream record was written)."""
    return _transition(key, QUARANTINED, {"reason": reason[:1000], "lookup": LOOKUP_QUARANTINED},
                       remove=("unpublished", "expires_at"), expected=expected)


def mark_ignored(key: str, reason: str) -> bool:
    """Received -> ignored (the hub does not route its type): out of the backlog, expiring like any other."""
    return _transition(key, IGNORED, {"reason": reason[:1000]}, remove=("unpublished",), expected=(RECEIVED,))


def _transition(key: str, status: str, values: dict[str, str], remove: tuple[str, ...],
                expected: tuple[str, ...] = WAITING) -> bool:
    """One conditional UpdateItem from an `expected` state; False if the item was in none of them."""
    names = {"#s": "status"} | {f"#a{i}": name for i, name in enumerate(values)}
    update = "SET #s = :status, " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
    try:
        aws.client("dynamodb").update_item(
            TableName=get_settings().inbox_table,
            Key={"pk": {"S": key}},
            UpdateExpression=update + " REMOVE " + ", ".join(remove),
            ConditionExpression=f"#s IN ({', '.join(f':e{i}' for i in range(len(expected)))})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":status": {"S": status}}
                                      | {f":e{i}": {"S": state} for i, state in enumerate(expected)}
                                      | {f":a{i}": {"S": value} for i, value in enumerate(values.values())},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise Transient(f"could not mark {key} {status}", system="dynamodb", record=key) from exc
    return True


def unpublished_pages(older_than: timedelta) -> Iterator[list[str]]:
    """The whole unpublished backlog, oldest first, one query page (up to 1 MB of keys) at a time; items
    published while the caller works on a page simply drop out of the next ones."""
    cutoff = (datetime.now(UTC) - older_than).isoformat()
    paginator = aws.client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=get_settings().inbox_table,
        IndexName="unpublished",
        KeyConditionExpression="unpublished = :one AND received_at < :cutoff",
        ExpressionAttributeValues={":one": {"S": "1"}, ":cutoff": {"S": cutoff}},
    )
    try:
        for page in pages:
            if page["Items"]:
                yield [item["pk"]["S"] for item in page["Items"]]
    except ClientError as exc:
        raise Transient("could not read the unpublished backlog", system="dynamodb") from exc


def still_waiting(keys: list[str]) -> dict[str, str]:
    """Key -> status (received or accepted) of those of keys whose items are still waiting for the bus."""
    return {key: item["status"]["S"] for key, item in _waiting(keys, "pk, #s").items()}


def waiting_items(keys: list[str]) -> dict[str, dict[str, Any]]:
    """Key -> the whole item (attribute values) of those still waiting for the bus."""
    return _waiting(keys, None)


def _waiting(keys: list[str], projection: str | None) -> dict[str, dict[str, Any]]:
    """One consistent batch read per 100 keys; items no longer waiting (published meanwhile) are left out."""
    table = get_settings().inbox_table
    ddb, waiting = aws.client("dynamodb"), dict[str, dict[str, Any]]()
    read = {"ConsistentRead": True} | ({"ProjectionExpression": projection,
                                        "ExpressionAttributeNames": {"#s": "status"}} if projection else {})
    for start in range(0, len(keys), 100):
        request = {table: {"Keys": [{"pk": {"S": k}} for k in dict.fromkeys(keys[start : start + 100])], **read}}
        while request:
            try:
                response = ddb.batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise Transient("could not read inbox states", system="dynamodb") from exc
            waiting |= {i["pk"]["S"]: i for i in response["Responses"].get(table, []) if i["status"]["S"] in WAITING}
            request = response.get("UnprocessedKeys") or {}
    return waiting
