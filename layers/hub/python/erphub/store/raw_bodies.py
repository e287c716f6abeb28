"""Claim check: raw bodies too large for an inbox item are kept in S3 and the item keeps the key."""

from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Transient
from erphub.settings import get_settings


def put(source: str, source_event_id: str, received_at: datetime, body: bytes, content_type: str) -> str:
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in source_event_id)
    key = f"raw/{source}/{received_at:%Y/%m/%d}/{safe_id}"
    bucket = get_settings().raw_bucket
    try:
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body,
                                    ContentType=content_type or "application/octet-stream")
    except ClientError as exc:
        raise Transient("could not store the raw body", system="s3", record=key) from exc
    return f"s3://{bucket}/{key}"
