"""Webhooks as the vendors send them, for tests and benchmarks: real samples from events/, a fresh vendor
event id when a test needs a new event, signed by local.webhooks (the vendor's own signature)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import requests

from local.webhooks import credentials_for, signed_request

__all__ = ["credentials", "fresh", "post", "sample", "signed_request", "with_vendor_id"]

ROOT = Path(__file__).resolve().parent.parent
credentials = credentials_for


def sample(relative: str) -> bytes:
    return (ROOT / "events" / relative).read_bytes()


def post(gateway: str, source: str, body: bytes, *, fresh_id: bool = True, **options: Any) -> requests.Response:
    """POST a webhook to the gateway exactly as the vendor would; fresh_id makes it a new vendor event."""
    if fresh_id:
        body, extra = fresh(source, body)
        options = {**extra, **options}
    url, headers, body = signed_request(source, f"{gateway}/webhooks/{source}", body, **options)
    return requests.post(url, data=body, headers=headers, timeout=10)


def fresh(source: str, body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The same business content as a new vendor event: (body, signing options)."""
    new_id = uuid.uuid4().hex[:18]
    if source == "salesforce":
        count = iter(range(1000))
        return re.sub(rb"<Id>04l[^<]*</Id>", lambda _: f"<Id>04l{new_id[:12]}{next(count):03d}</Id>".encode(),
                      body), {}
    if source == "zuora":
        return body, {"notification_id": new_id}  # the id travels in a header
    return with_vendor_id(source, body, new_id), {}


def with_vendor_id(source: str, body: bytes, new_id: str) -> bytes:
    """A JSON vendor's body with its event id(s) replaced (HubSpot: one per event of the batch)."""
    if source in ("salesforce", "zuora"):
        return body
    document = json.loads(body)
    if source == "hubspot":
        for index, event in enumerate(document):
            event["eventId"] = new_id + str(index) if len(new_id) > 100 else int(new_id[:12], 16) + index
    elif source in ("gainsight", "totango"):
        document["eventId"] = new_id
    else:  # stripe, chargebee
        document["id"] = f"evt_{new_id}" if source == "stripe" else f"ev_{new_id}"
    return json.dumps(document).encode()


def mapped_item(stack: Any, event_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """The inbox item of an accepted webhook once the publisher has mapped it (no longer `received`): published,
    quarantined or ignored. The ack answers before the mapping (erphub.ingest.mapping)."""
    return mapped_items(stack, {event_id}, timeout)[event_id]


def mapped_items(stack: Any, event_ids: set[str], timeout: float = 15.0) -> dict[str, dict[str, Any]]:
    """Event id -> inbox item, once the publisher has mapped every one of them."""
    ddb, table = stack.client("dynamodb"), stack.physical("InboxTable")

    def mapped() -> dict[str, dict[str, Any]] | None:
        found, request = {}, {}
        while True:
            page = ddb.scan(TableName=table, ConsistentRead=True, **request)
            found |= {i["event_id"]["S"]: i for i in page["Items"] if i["event_id"]["S"] in event_ids}
            if "LastEvaluatedKey" not in page:
                break
            request = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        done = len(found) == len(event_ids) and all(i["status"]["S"] != "received" for i in found.values())
        return found if done else None

    return stack.wait_until(mapped, timeout=timeout, interval=0.1)


def mapped_key(stack: Any, key: str, timeout: float = 15.0) -> dict[str, Any]:
    """The inbox item `<source>#<vendor event id>` once the publisher has mapped it."""
    ddb, table = stack.client("dynamodb"), stack.physical("InboxTable")

    def mapped() -> dict[str, Any] | None:
        item = ddb.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
        return item if item and item["status"]["S"] != "received" else None

    return stack.wait_until(mapped, timeout=timeout, interval=0.1)
