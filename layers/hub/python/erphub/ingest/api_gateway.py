"""Between API Gateway's proxy event and the ingest service: the request as the vendor sent it, and the answer.

The function serves one route, POST /webhooks/{source}, so it routes that itself instead of through Powertools'
REST resolver: the resolver (with the asyncio and AppSync modules it imports) cost ~55 ms of each cold start and
~0.1 ms of each webhook for one path match. The answer has the resolver's shape (multiValueHeaders, compact
JSON), and a path or method API Gateway should never send here gets the resolver's 404.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from erphub.errors import IngestRejected
from erphub.ingest import service
from erphub.observability import emit_safely, logger
from erphub.sources import SOURCE_NAMES
from erphub.sources.inbound import Headers, InboundRequest

_ROUTE = re.compile(r"^/webhooks/(?P<source>[^/]+)$")


def respond(event: dict[str, Any]) -> dict[str, Any]:
    """The proxy response to one API Gateway event: 202 with the receipt (Salesforce: 200 with its SOAP Ack),
    the refusal's status with its reason, or 404 for a route this function does not serve."""
    route = _ROUTE.match(event.get("path") or "")
    if route is None or event.get("httpMethod") != "POST":
        return response(404, "application/json", json.dumps({"statusCode": 404, "message": "Not found"}))
    try:
        delivery = service.receive(route["source"], inbound_request(event))
    except IngestRejected as exc:
        return refused(exc)
    if delivery.ack_body is not None:
        return response(200, delivery.ack_content_type or "text/xml", delivery.ack_body)
    return response(202, "application/json", _compact(delivery.body()))


def refused(exc: IngestRejected) -> dict[str, Any]:
    logger.info("webhook refused", extra={"error": type(exc).__name__, "reason": exc.reason})
    # only a known source is a dimension value: the path segment is the caller's to choose
    source = exc.system if exc.system in SOURCE_NAMES else "unknown"
    emit_safely("webhooks", source=source, status="refused")
    return response(exc.http_status, "application/json",
                    _compact({"error": type(exc).__name__, "message": exc.reason}))


def response(status: int, content_type: str, body: str) -> dict[str, Any]:
    return {"statusCode": status, "multiValueHeaders": {"Content-Type": [content_type]}, "body": body,
            "isBase64Encoded": False}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def inbound_request(event: dict[str, Any]) -> InboundRequest:
    """Exact body bytes (the API passes every media type as binary) and the full URL the vendor called."""
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = Headers(event.get("headers") or {})
    context = event.get("requestContext") or {}
    scheme = headers.get("x-forwarded-proto", "https")
    host = headers.get("host", context.get("domainName") or "localhost")
    # includes the stage on execute-api hosts, as the vendor saw it
    path = context.get("path") or event.get("path") or ""
    query = urlencode(event.get("multiValueQueryStringParameters") or {}, doseq=True)
    epoch_ms = context.get("requestTimeEpoch")
    received_at = datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms else datetime.now(UTC)
    return InboundRequest(
        method=event.get("httpMethod") or "",
        url=f"{scheme}://{host}{path}" + (f"?{query}" if query else ""),
        headers=headers,
        body=body,
        received_at=received_at,
        source_ip=(context.get("identity") or {}).get("sourceIp") or "",
    )
