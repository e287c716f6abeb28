"""HubSpot webhooks (app subscriptions): signature v1/v2/v3 and the delivery's events; the mapping is mapping.hubspot.

Signatures (https://developers.hubspot.com/docs/api/webhooks/validating-requests), keyed by the app's
client secret:
- v3 (`X-HubSpot-Signature-v3`, preferred when present): base64 HMAC-SHA256 over
  method + URI + body + `X-HubSpot-Request-Timestamp` (ms). The URI has these escapes decoded, as HubSpot
  documents: %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B. Timestamps older than 5 minutes are refused
  (and more than 5 minutes ahead, which only a forger or a broken clock produces).
- v2 (`X-HubSpot-Signature-Version: v2`): sha256 hex of secret + method + URI + body.
- v1 (`X-HubSpot-Signature-Version: v1`, or no version header): sha256 hex of secret + body.

A delivery is a JSON array of events; each is one VendorEvent, id = f"{portalId}:{eventId}" (eventId is
unique per app only). A closed-won deal needs its company, which HubSpot sends as a separate
`deal.associationChange` (DEAL_TO_COMPANY, not removed) in the same delivery: parse() copies those company ids
into the deal's event as `erphubAssociatedCompanyIds`. Which events become which canonical events: see
erphub.sources.mapping.hubspot, imported only by normalize (the ack path imports no pydantic).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from erphub.errors import AuthenticationFailed, BadEnvelope
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal

if TYPE_CHECKING:
    from erphub.canonical import EventEnvelope

NAME = "hubspot"
MAX_AGE_MS = 5 * 60 * 1000
ASSOCIATED_COMPANIES = "erphubAssociatedCompanyIds"

# HubSpot's v3 rule: these escapes are decoded before signing; nothing else is
_V3_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
              "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def v3_uri(url: str) -> str:
    out, i = [], 0
    while i < len(url):
        chunk = url[i:i + 3].upper()
        if url[i] == "%" and chunk in _V3_DECODE:
            out.append(_V3_DECODE[chunk])
            i += 3
        else:
            out.append(url[i])
            i += 1
    return "".join(out)


def signature_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def signature_v2(secret: str, method: str, url: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.upper().encode() + url.encode() + body).hexdigest()


def signature_v3(secret: str, method: str, url: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + v3_uri(url).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class HubSpotSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        headers, secrets = request.headers, credentials.active
        if "x-hubspot-signature-v3" in headers:
            timestamp = headers.get("x-hubspot-request-timestamp", "")
            if not c.is_epoch_text(timestamp, max_digits=15):
                raise AuthenticationFailed("hubspot: v3 signature without a numeric X-HubSpot-Request-Timestamp",
                                           system=NAME)
            age_ms = request.received_at.timestamp() * 1000 - int(timestamp)
            if abs(age_ms) > MAX_AGE_MS:
                raise AuthenticationFailed(
                    f"hubspot: request timestamp is {int(age_ms / 1000)} s from now, outside 5 minutes", system=NAME
                )
            expected = [signature_v3(s, request.method, request.url, request.body, timestamp) for s in secrets]
            if not any_equal(headers["x-hubspot-signature-v3"], expected):
                raise AuthenticationFailed("hubspot: v3 signature does not match an active client secret",
                                           system=NAME)
            return
        signature = headers.get("x-hubspot-signature", "")
        if not signature:
            raise AuthenticationFailed("hubspot: no X-HubSpot-Signature-v3 or X-HubSpot-Signature header",
                                       system=NAME)
        version = headers.get("x-hubspot-signature-version", "v1").lower()
        if version == "v1":
            expected = [signature_v1(s, request.body) for s in secrets]
        elif version == "v2":
            expected = [signature_v2(s, request.method, request.url, request.body) for s in secrets]
        else:
            raise AuthenticationFailed(f"hubspot: unsupported signature version {version!r}", system=NAME)
        if not any_equal(signature.lower(), expected):
            raise AuthenticationFailed(f"hubspot: {version} signature does not match an active client secret",
                                       system=NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        batch = c.load_json(request.body, NAME)
        if not isinstance(batch, list) or not batch or not all(isinstance(e, dict) for e in batch):
            raise BadEnvelope("hubspot: body is not a non-empty array of webhook events", system=NAME)
        for item in batch:
            _check_event(item)
        companies: dict[Any, list[str]] = {}
        for item in batch:
            if (item.get("subscriptionType") == "deal.associationChange"
                    and item.get("associationType") == "DEAL_TO_COMPANY" and not item.get("associationRemoved")):
                companies.setdefault(item.get("fromObjectId"), []).append(str(item.get("toObjectId")))
        events = []
        for item in batch:
            payload = dict(item)
            deal = item.get("objectId")  # absent in a malformed event: no association can name it
            if str(item["subscriptionType"]).startswith("deal.") and deal is not None and deal in companies:
                payload[ASSOCIATED_COMPANIES] = companies[deal]
            # raw is a one-event delivery (with the company ids) so parsing it again yields this same event
            events.append(VendorEvent(f"{item['portalId']}:{item['eventId']}", item["subscriptionType"], payload,
                                      c.compact([payload])))
        return events

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        from erphub.sources.mapping import hubspot as mapping  # the canonical models: never on the ack path

        return mapping.normalize(event)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


def _is_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value != "")


def _check_event(item: dict[str, Any]) -> None:
    """HubSpot's documented field types; anything else is not a HubSpot event (and would be unhashable or
    unstorable later)."""
    if not item.get("eventId") or not item.get("subscriptionType") or item.get("portalId") is None:
        raise BadEnvelope("hubspot: an event has no eventId, portalId or subscriptionType", system=NAME)
    if not (_is_id(item["eventId"]) and _is_id(item["portalId"]) and isinstance(item["subscriptionType"], str)):
        raise BadEnvelope("hubspot: eventId and portalId must be numbers, subscriptionType a string", system=NAME)
    for name in ("objectId", "fromObjectId", "toObjectId"):
        if item.get(name) is not None and not _is_id(item[name]):
            raise BadEnvelope(f"hubspot: {name} must be a number", system=NAME)


source = HubSpotSource()
