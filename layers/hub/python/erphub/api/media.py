"""The API reads JSON only: a request body declared as anything else is refused with 415 before the resolver
parses it (Powertools' validation would try multipart or form parsing, and fail on a malformed one)."""

from __future__ import annotations

import json
from typing import Any

from erphub.api import errors


def refuse_unsupported(event: dict[str, Any]) -> dict[str, Any] | None:
    """An API Gateway proxy response for a body that is not JSON, else None."""
    if not event.get("body"):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media = str(headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    request_id = ((event.get("requestContext") or {}).get("requestId")) or ""
    body = errors.body("UnsupportedMediaType", f"the body must be application/json, not {media or 'empty'}",
                       "unsupported_media_type", request_id)
    return {"statusCode": 415, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body),
            "isBase64Encoded": False}
