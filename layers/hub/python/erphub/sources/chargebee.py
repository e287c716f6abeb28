"""Chargebee webhooks: HTTP basic auth and the v2 event envelope; the mapping is mapping.chargebee.

Chargebee authenticates webhooks with the basic-auth username and password set on the webhook endpoint
(https://www.chargebee.com/docs/2.0/events_and_webhooks.html): username = credentials.username, password =
either active secret. An event is {id, occurred_at, event_type, api_version, content: {...}}; the vendor event
id is `id` (ev_...), which Chargebee keeps across retries. Which events become which canonical events: see
erphub.sources.mapping.chargebee, imported only by normalize (the ack path imports no pydantic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from erphub.errors import BadEnvelope
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "chargebee"


class ChargebeeSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        c.verify_basic(request, credentials, NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        event = c.load_json(request.body, NAME)
        if not isinstance(event, dict) or not isinstance(event.get("content"), dict):
            raise BadEnvelope("chargebee: body is not a Chargebee event (no content object)", system=NAME)
        if not event.get("id") or not event.get("event_type") or event.get("occurred_at") is None:
            raise BadEnvelope("chargebee: event has no id, event_type or occurred_at", system=NAME)
        if not isinstance(event["id"], str) or not isinstance(event["event_type"], str):
            raise BadEnvelope("chargebee: event id and event_type must be strings", system=NAME)
        return [VendorEvent(str(event["id"]), str(event["event_type"]), event, request.body)]

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.mapping import chargebee as mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


source = ChargebeeSource()
