"""Claim checks: what is too large for an inbox item or a bus entry is kept in S3 and referenced.

- A raw body too large to keep inline (DynamoDB items hold at most 400 KB) is stored under raw/<source>/...
  and the inbox item keeps `raw_ref`.
- A canonical event too large for an EventBridge entry (256 KB) is stored under raw/events/<source>/...;
  the bus carries its envelope without `data` plus `claim_check` (the S3 URI, size and SHA-256), and a
  consumer gets the whole event back with `resolve_event`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Permanent, Transient
from erphub.settings import get_settings

CLAIM_CHECK = "claim_check"
# EventBridge takes entries of at most 256 KB, counted as its PutEvents size rule says (Time 14 bytes, then
# the UTF-8 bytes of Source, DetailType, Detail and each Resource; erphub.publishing.entry_bytes). Events over
# MAX_INLINE_EVENT_BYTES travel by claim check; the headroom keeps the delivered event (EventBridge's own
# envelope around the detail) within the 256 KB an SQS message or a Step Functions input may hold.
MAX_ENTRY_BYTES = 256 * 1024
MAX_INLINE_EVENT_BYTES = MAX_ENTRY_BYTES - 2048
# S3 keys hold at most 1024 bytes; vendor ids may be up to DynamoDB's 2048-byte key, so long ones are hashed
_MAX_ID_CHARS = 200


def put(source: str, source_event_id: str, received_at: datetime, body: bytes, content_type: str) -> str:
    key = f"raw/{source}/{received_at:%Y/%m/%d}/{_safe(source_event_id)}"
    return _put(key, body, content_type or "application/octet-stream")


def put_event(source: str, source_event_id: str, received_at: datetime, event_json: str) -> dict[str, Any]:
    """Store a canonical event; returns the `claim_check` a bus entry carries instead of its data."""
    body = event_json.encode()
    key = f"raw/events/{source}/{received_at:%Y/%m/%d}/{_safe(source_event_id)}.json"
    uri = _put(key, body, "application/json")
    return {"uri": uri, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def claimed_event(event_json: str, claim: dict[str, Any]) -> str:
    """The bus entry's detail for a claim-checked event: every envelope field but `data`, and the claim."""
    header = {k: v for k, v in json.loads(event_json).items() if k != "data"}
    return json.dumps({**header, CLAIM_CHECK: claim}, separators=(",", ":"))


def resolve_event(detail: dict[str, Any]) -> dict[str, Any]:
    """The canonical event of a bus entry's detail: itself, or the stored event its claim check names."""
    claim = detail.get(CLAIM_CHECK)
    if not claim:
        return detail
    bucket, _, key = str(claim["uri"]).removeprefix("s3://").partition("/")
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        raise Transient("could not read a claim-checked event", system="s3", record=key) from exc
    if hashlib.sha256(body).hexdigest() != claim.get("sha256"):
        raise Permanent("claim-checked event does not match its checksum", system="s3", record=key)
    event: dict[str, Any] = json.loads(body)
    if event.get("event_id") != detail.get("event_id"):
        raise Permanent("claim-checked event is another event", system="s3", record=key)
    return event


def read(uri: str) -> bytes:
    """The body a `raw_ref` (s3://bucket/key) names: an operator repairing a quarantined webhook needs it."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        raise Transient("could not read a claim-checked body", system="s3", record=key) from exc


def _put(key: str, body: bytes, content_type: str) -> str:
    bucket = get_settings().raw_bucket
    try:
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except ClientError as exc:
        raise Transient("could not store a claim-checked body", system="s3", record=key) from exc
    return f"s3://{bucket}/{key}"


def _safe(source_event_id: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in source_event_id)
    if safe == source_event_id and len(safe) <= _MAX_ID_CHARS:
        return safe
    # ids that differ only in replaced characters ("a/b", "a:b") must not share one object
    digest = hashlib.sha256(source_event_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{safe[:64]}-{digest}"
