"""What the customer-success sources (Gainsight, Totango) share on the ack path: a shared-token header and a JSON
signal with an `eventType` and one subject object. Their canonical shapes are in mapping.success_signals, imported
only by normalize (the ack path imports no pydantic).

Neither vendor signs its outbound webhooks (see each source's docstring); the hub's convention for both is a
secret token header compared in constant time against both active secrets.
"""

from __future__ import annotations

import hashlib

from erphub.errors import AuthenticationFailed, BadEnvelope
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal


def verify_token(request: InboundRequest, credentials: SourceCredentials, header: str, system: str) -> None:
    token = request.headers.get(header, "")
    if not token:
        raise AuthenticationFailed(f"{system}: no {header} header", system=system)
    if not any_equal(token, credentials.active):
        raise AuthenticationFailed(f"{system}: {header} is not an active token", system=system)


def parse_signal(request: InboundRequest, system: str, subject: str) -> list[VendorEvent]:
    """One signal per request; without an `eventId` the body's hash identifies it (a resend is a duplicate)."""
    body = c.load_json(request.body, system)
    if not isinstance(body, dict) or not body.get("eventType") or not isinstance(body.get(subject), dict):
        raise BadEnvelope(f"{system}: payload has no eventType or {subject} object", system=system)
    if not isinstance(body["eventType"], str) or not isinstance(body.get("eventId") or "", str | int):
        raise BadEnvelope(f"{system}: eventType must be a string, eventId a string or number", system=system)
    event_id = body.get("eventId") or "sha256:" + hashlib.sha256(request.body).hexdigest()
    return [VendorEvent(str(event_id), str(body["eventType"]).strip().lower(), body, request.body)]
