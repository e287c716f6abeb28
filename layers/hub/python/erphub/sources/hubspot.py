"""HubSpot webhooks (app subscriptions): signature v1/v2/v3 and deal/company events into canonical CRM events.

Signatures (https://developers.hubspot.com/docs/api/webhooks/validating-requests), keyed by the app's
client secret:
- v3 (`X-HubSpot-Signature-v3`, preferred when present): base64 HMAC-SHA256 over
  method + URI + body + `X-HubSpot-Request-Timestamp` (ms). The URI has these escapes decoded, as HubSpot
  documents: %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B. Timestamps older than 5 minutes are refused
  (and more than 5 minutes ahead, which only a forger or a broken clock produces).
- v2 (`X-HubSpot-Signature-Version: v2`): sha256 hex of secret + method + URI + body.
- v1 (`X-HubSpot-Signature-Version: v1`, or no version header): sha256 hex of secret + body.

A delivery is a JSON array of events; each is one VendorEvent, id = f"{portalId}:{eventId}" (eventId is
unique per app only). HubSpot webhooks carry ids and the one changed property, nothing else, so:
- deal.propertyChange of `dealstage` to a closed-won stage -> crm.opportunity.closed_won, to a closed-lost
  stage -> crm.opportunity.closed_lost (stage ids in CLOSED_WON_STAGES / CLOSED_LOST_STAGES: the default
  pipeline's `closedwon` / `closedlost`). contract_id = deal id, version 1 (HubSpot has no contract
  version), amount/currency unknown (None). The account is the company of a `deal.associationChange`
  (DEAL_TO_COMPANY, not removed) in the same delivery; parse() copies those company ids into the deal event
  as `erphubAssociatedCompanyIds`. A closed-won deal with no associated company is Unmappable (quarantined
  for an operator to fix and replay). Closed-lost deals need no account: account_id is then "".
  Amendments and renewals are deals of their own pipelines (HubSpot keeps stage ids per pipeline): a deal
  reaching AMENDMENT_WON_STAGES (`amendmentwon`) -> crm.opportunity.amended, RENEWAL_WON_STAGES (`renewalwon`)
  -> crm.opportunity.renewed. Their business key is the deal id, version 1 (each change is a new deal); the
  workflow reads the contract it changes and its version from the deal (crm.fetch_deal), so their company
  is only a hint here.
- company.propertyChange / company.creation -> crm.account.updated with the changed property applied
  (name, domain, industry, country, lifecyclestage). Account.name is "" unless `name` is what changed.
Everything else (contacts, other deal properties, association events themselves) is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from erphub.canonical import Account, Contract, EventEnvelope, EventType, correlation_id_for
from erphub.errors import AuthenticationFailed, BadEnvelope, Unmappable
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal

NAME = "hubspot"
MAX_AGE_MS = 5 * 60 * 1000
CLOSED_WON_STAGES = frozenset({"closedwon"})
CLOSED_LOST_STAGES = frozenset({"closedlost"})
AMENDMENT_WON_STAGES = frozenset({"amendmentwon"})
RENEWAL_WON_STAGES = frozenset({"renewalwon"})
ASSOCIATED_COMPANIES = "erphubAssociatedCompanyIds"

# HubSpot's v3 rule: these escapes are decoded before signing; nothing else is
_V3_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
              "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
_COMPANY_FIELDS = {"name": "name", "domain": "domain", "industry": "industry", "country": "country",
                   "lifecyclestage": "lifecycle_status"}


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

    @c.mapping_guard(NAME)
    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        payload = event.payload
        occurred_at = c.from_epoch_ms(payload.get("occurredAt"))
        if occurred_at is None:
            raise Unmappable("hubspot: event has no occurredAt", system=NAME, record=event.vendor_event_id)
        deal_stage = event.vendor_type == "deal.propertyChange" and payload.get("propertyName") == "dealstage"
        company = event.vendor_type in ("company.propertyChange", "company.creation")
        if not (deal_stage or company):
            return None
        object_id = str(c.require(payload.get("objectId"), "objectId", NAME, event.vendor_event_id))
        if deal_stage:
            return self._deal(event, object_id, occurred_at)
        return c.envelope(
            source=NAME, vendor_event_id=event.vendor_event_id, type=EventType.ACCOUNT_UPDATED,
            occurred_at=occurred_at, correlation_id=correlation_id_for("account", NAME, object_id),
            business_key=object_id, version=c.epoch_version(occurred_at), data=_company(payload, object_id),
        )

    def _deal(self, event: VendorEvent, deal_id: str, occurred_at: Any) -> EventEnvelope | None:
        stage = str(event.payload.get("propertyValue") or "")
        if stage in CLOSED_WON_STAGES:
            kind = EventType.OPPORTUNITY_CLOSED_WON
        elif stage in CLOSED_LOST_STAGES:
            kind = EventType.OPPORTUNITY_CLOSED_LOST
        elif stage in AMENDMENT_WON_STAGES:
            kind = EventType.OPPORTUNITY_AMENDED
        elif stage in RENEWAL_WON_STAGES:
            kind = EventType.OPPORTUNITY_RENEWED
        else:
            return None
        company_ids = event.payload.get(ASSOCIATED_COMPANIES) or []
        if kind == EventType.OPPORTUNITY_CLOSED_WON and not company_ids:
            raise Unmappable(
                f"hubspot: deal {deal_id} is closed won but the delivery names no associated company "
                "(DEAL_TO_COMPANY association); associate a company and replay",
                system=NAME, record=deal_id,
            )
        account_id = company_ids[0] if company_ids else ""
        contract = Contract(
            contract_id=deal_id, version=1, stage=stage, close_date=occurred_at.date(),
            account=Account(account_id=account_id, name="", external_ids={NAME: account_id} if account_id else {}),
        )
        return c.envelope(
            source=NAME, vendor_event_id=event.vendor_event_id, type=kind, occurred_at=occurred_at,
            correlation_id=correlation_id_for("contract", NAME, deal_id), business_key=deal_id, version="1",
            data=contract,
        )

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


def _company(payload: dict[str, Any], company_id: str) -> Account:
    fields: dict[str, Any] = {"account_id": company_id, "name": "", "external_ids": {NAME: company_id}}
    prop = payload.get("propertyName")
    if prop in _COMPANY_FIELDS and payload.get("propertyValue") is not None:
        fields[_COMPANY_FIELDS[prop]] = str(payload["propertyValue"])
    return Account(**fields)


source = HubSpotSource()
