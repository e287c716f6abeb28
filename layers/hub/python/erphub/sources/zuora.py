"""Zuora callout notifications: basic auth or HMAC, deduplicated on `Zuora-Notification-Id`.

Authentication (credentials.mode):
- "basic" (default): `Authorization: Basic` with username = credentials.username and password = an active
  secret. Enable "Preemptive Authentication" on the callout so the first request carries the header.
- "hmac": the callout template's HMAC authentication set to Algorithm SHA-256, Key = the secret, Data = the
  same text as the request body template (so the signed data is exactly the body), Signed Header Key
  `X-Zuora-Signature`, Value `{{ Data.HMAC.Signed }}`: base64 HMAC-SHA256 of the raw body.
The vendor event id is the `Zuora-Notification-Id` header, which Zuora keeps across retries of one
notification (Zuora-Request-Id changes on every retry, so it is not used). The body and which events become
which canonical events: see erphub.sources.mapping.zuora, imported only by normalize (the ack path imports no
pydantic).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

from erphub.errors import AuthenticationFailed, BadEnvelope
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "zuora"
SIGNATURE_HEADER = "X-Zuora-Signature"
NOTIFICATION_HEADER = "Zuora-Notification-Id"


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ZuoraSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        mode = (credentials.mode or "basic").lower()
        if mode == "basic":
            c.verify_basic(request, credentials, NAME)
        elif mode == "hmac":
            given = request.headers.get(SIGNATURE_HEADER, "")
            if not given:
                raise AuthenticationFailed(f"zuora: no {SIGNATURE_HEADER} header", system=NAME)
            if not any_equal(given, [signature(s, request.body) for s in credentials.active]):
                raise AuthenticationFailed("zuora: HMAC signature does not match an active secret", system=NAME)
        else:
            raise AuthenticationFailed(f"zuora: unknown authentication mode {mode!r}", system=NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        notification_id = request.headers.get(NOTIFICATION_HEADER, "").strip()
        if not notification_id:
            raise BadEnvelope(f"zuora: no {NOTIFICATION_HEADER} header", system=NAME)
        body = c.load_json(request.body, NAME)
        if not isinstance(body, dict) or not body.get("eventType") or not isinstance(body.get("account"), dict):
            raise BadEnvelope("zuora: callout body has no eventType or account object", system=NAME)
        if not isinstance(body["eventType"], str):
            raise BadEnvelope("zuora: eventType must be a string", system=NAME)
        return [VendorEvent(notification_id, str(body["eventType"]), body, request.body)]

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.mapping import zuora as mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


source = ZuoraSource()
