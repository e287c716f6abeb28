"""Stripe webhooks: `Stripe-Signature` verification and the event envelope; the mapping is mapping.stripe.

Signature (https://docs.stripe.com/webhooks#verify-manually): `t=<unix>,v1=<hex>[,v1=<hex>...]`, each v1 an
HMAC-SHA256 of f"{t}.{raw body}" keyed by an endpoint secret. Several v1 appear while Stripe rolls the
endpoint secret; v0 and unknown schemes are ignored. Timestamps more than 300 s away (past or future) are
refused.

Routing and correlation: see erphub.sources.mapping.stripe, imported only by normalize (the canonical models
are pydantic; the ack path, verify + parse + acknowledge, imports none).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from erphub.errors import AuthenticationFailed, BadEnvelope
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "stripe"
TOLERANCE_SECONDS = 300


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class StripeSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        header = request.headers.get("stripe-signature", "")
        timestamp, signatures = "", []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t":
                timestamp = value
            elif key == "v1" and value:
                signatures.append(value)
        if not timestamp or not signatures:
            raise AuthenticationFailed("stripe: Stripe-Signature has no t= or no v1= signature", system=NAME)
        if not c.is_epoch_text(timestamp, max_digits=12):
            raise AuthenticationFailed("stripe: Stripe-Signature timestamp is not a number", system=NAME)
        age = request.received_at.timestamp() - int(timestamp)
        if abs(age) > TOLERANCE_SECONDS:
            raise AuthenticationFailed(
                f"stripe: signature timestamp is {int(age)} s from now, outside the {TOLERANCE_SECONDS} s tolerance",
                system=NAME,
            )
        expected = [expected_signature(secret, timestamp, request.body) for secret in credentials.active]
        matched = False
        for signature in signatures:
            matched |= any_equal(signature, expected)
        if not matched:
            raise AuthenticationFailed("stripe: no v1 signature matches an active endpoint secret", system=NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        event = c.load_json(request.body, NAME)
        if not isinstance(event, dict) or event.get("object") != "event":
            raise BadEnvelope("stripe: body is not a Stripe event object", system=NAME)
        event_id, event_type = event.get("id"), event.get("type")
        if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
            raise BadEnvelope("stripe: event has no id or type", system=NAME)
        data = event.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
            raise BadEnvelope(f"stripe: event {event_id} has no data.object", system=NAME)
        return [VendorEvent(event_id, event_type, event, request.body)]

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.mapping import stripe as mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


source = StripeSource()
