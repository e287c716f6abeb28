"""Quarantined inbox items: listed through the sparse `lookup` index (lookup = "quarantined"), read whole for
repair, and replayed into the pipeline by one conditional write.

The replay is one commit point like the ack path's (store/inbox.py): the item turns from quarantined into
accepted, with its canonical event and the `unpublished` marker, in one UpdateItem conditioned on it still being
quarantined. The inbox stream (and, as backstop, the sweeper) then publishes its event as it stands. Two
replays racing each other cannot both pass the condition, so an event is replayed once.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Conflict, NotFound, Transient
from erphub.settings import get_settings
from erphub.store.inbox import ACCEPTED, LOOKUP_QUARANTINED, MAX_KEY_BYTES, QUARANTINED, lookup_key
from erphub.store.tables import from_item

INDEX = "lookup"
_PAGE_KEYS = {"pk", "lookup", "received_at"}
# what a listing shows; the raw body and the headers are read per item (show / repair)
_LISTED = ("pk", "source", "source_event_id", "vendor_type", "event_id", "correlation_id", "reason", "received_at")


def page(limit: int, start: str | None = None, source: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of quarantined items, oldest first, and the token of the next page (None: no more)."""
    request: dict[str, Any] = {
        "TableName": get_settings().inbox_table, "IndexName": INDEX, "Limit": limit,
        "KeyConditionExpression": "lookup = :quarantined",
        "ExpressionAttributeValues": {":quarantined": {"S": LOOKUP_QUARANTINED}},
    }
    if source:
        request["FilterExpression"] = "#src = :source"
        request["ExpressionAttributeNames"] = {"#src": "source"}
        request["ExpressionAttributeValues"][":source"] = {"S": source}
    if start:
        request["ExclusiveStartKey"] = _decode(start)
    try:
        response = aws.client("dynamodb").query(**request)
    except ClientError as exc:
        raise Transient("could not list quarantined webhooks", system="dynamodb") from exc
    items = [{k: v for k, v in from_item(i).items() if k in _LISTED} for i in response["Items"]]
    last = response.get("LastEvaluatedKey")
    return items, _encode(last) if last else None


def item(key: str) -> dict[str, Any]:
    """The whole inbox item (raw body included), whatever its state now."""
    if not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise NotFound("no such webhook in the inbox", system="hub", record=key[:100])
    try:
        found = aws.client("dynamodb").get_item(TableName=get_settings().inbox_table, ConsistentRead=True,
                                                Key={"pk": {"S": key}}).get("Item")
    except ClientError as exc:
        raise Transient(f"could not read {key}", system="dynamodb", record=key) from exc
    if not found:
        raise NotFound(f"no webhook {key} in the inbox", system="hub", record=key)
    return from_item(found)


def replay(key: str, event_json: str, event_type: str, business_key: str, correlation_id: str,
           repair: str, actor: str) -> datetime:
    """quarantined -> accepted (to be published), once; `reason` stays as the record of why it was quarantined.
    Raises Conflict if it is no longer quarantined (replayed
    already, by this call's twin or earlier)."""
    now = datetime.now(UTC)
    expires = now + timedelta(days=get_settings().inbox_ttl_days)
    values = {":accepted": ACCEPTED, ":quarantined": QUARANTINED, ":event": event_json, ":type": event_type,
              ":bkey": business_key, ":cid": correlation_id, ":repair": repair, ":by": actor,
              ":at": now.isoformat(), ":one": "1", ":expires": int(expires.timestamp())}
    lookup = lookup_key(ACCEPTED, business_key)
    try:
        aws.client("dynamodb").update_item(
            TableName=get_settings().inbox_table, Key={"pk": {"S": key}},
            UpdateExpression="SET #s = :accepted, #event = :event, event_type = :type, business_key = :bkey, "
                             "correlation_id = :cid, repair = :repair, replayed_by = :by, replayed_at = :at, "
                             "unpublished = :one, expires_at = :expires"
                             + (", lookup = :lookup" if lookup else " REMOVE lookup"),
            ConditionExpression="#s = :quarantined",
            ExpressionAttributeNames={"#s": "status", "#event": "event"},
            ExpressionAttributeValues={k: {"N": str(v)} if isinstance(v, int) else {"S": v}
                                       for k, v in {**values, **({":lookup": lookup} if lookup else {})}.items()},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict(f"{key} is not quarantined (replayed already?)", system="hub", record=key) from exc
        raise Transient(f"could not replay {key}", system="dynamodb", record=key) from exc
    return now


def _encode(last_key: dict[str, Any]) -> str:
    plain = {name: value["S"] for name, value in last_key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def _decode(token: str) -> dict[str, Any]:
    from erphub.errors import ValidationFailed

    try:
        plain = json.loads(base64.urlsafe_b64decode(token.encode()))
        # exactly the index's last evaluated key: the table key and the index keys, all strings
        if not isinstance(plain, dict) or set(plain) != _PAGE_KEYS or not all(isinstance(v, str) and v
                                                                              for v in plain.values()):
            raise ValueError("not a page token")
    except ValueError as exc:
        raise ValidationFailed("the page token is not one this API gave", system="hub") from exc
    return {name: {"S": value} for name, value in plain.items()}
