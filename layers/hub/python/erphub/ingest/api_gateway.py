"""Between API Gateway's proxy event and the ingest service: the request as the vendor sent it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import urlencode

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from erphub.sources.inbound import Headers, InboundRequest


def inbound_request(event: APIGatewayProxyEvent) -> InboundRequest:
    """Exact body bytes (the API passes every media type as binary) and the full URL the vendor called."""
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    headers = Headers(event.headers or {})
    context = event.request_context
    scheme = headers.get("x-forwarded-proto", "https")
    host = headers.get("host", context.domain_name or "localhost")
    path = context.path or event.path  # includes the stage on execute-api hosts, as the vendor saw it
    query = urlencode(event.multi_value_query_string_parameters or {}, doseq=True)
    epoch_ms = context.request_time_epoch
    received_at = datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms else datetime.now(UTC)
    return InboundRequest(
        method=event.http_method,
        url=f"{scheme}://{host}{path}" + (f"?{query}" if query else ""),
        headers=headers,
        body=body,
        received_at=received_at,
        source_ip=context.identity.source_ip or "",
    )
