"""The API reads JSON only: a request body declared as anything else is refused with 415, and one that is not UTF-8
with 400, before the resolver parses it (Powertools would try multipart or form parsing, or fail decoding)."""

from __future__ import annotations

import base64
import json
from typing import Any

from erphub.api import errors


def refuse_unsupported(event: dict[str, Any]) -> dict[str, Any] | None:
    """An API Gateway proxy response for a body that is not JSON, else None."""
    if not event.get("body"):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media = str(headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    request_id = ((event.get("requestContext") or {}).get("requestId")) or ""
    if not (media == "application/json" or media.endswith("+json")):
        return _refusal(415, "UnsupportedMediaType", f"the body must be application/json, not {media or 'empty'}",
                        "unsupported_media_type", request_id)
    if event.get("isBase64Encoded"):  # bytes that are not UTF-8 arrive base64-encoded: JSON is UTF-8
        try:
            base64.b64decode(event["body"]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return _refusal(400, "BadRequest", "the body is not UTF-8 encoded JSON", "body_invalid", request_id)
    return None


def _refusal(status: int, error: str, message: str, code: str, request_id: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(errors.body(error, message, code, request_id)), "isBase64Encoded": False}
