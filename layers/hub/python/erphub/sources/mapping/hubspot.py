"""HubSpot webhook events into canonical CRM events: the mapping behind erphub.sources.hubspot's normalize.

A module of its own, imported only when an event is normalized, so the webhook's ack path (verify, parse,
acknowledge) imports no pydantic. HubSpot webhooks carry ids and the one changed property, nothing else, so:
- deal.propertyChange of `dealstage` to a closed-won stage -> crm.opportunity.closed_won, to a closed-lost
  stage -> crm.opportunity.closed_lost (stage ids in CLOSED_WON_STAGES / CLOSED_LOST_STAGES: the default
  pipeline's `closedwon` / `closedlost`). contract_id = deal id, version 1 (HubSpot has no contract
  version), amount/currency unknown (None). The account is the company of a `deal.associationChange`
  (DEAL_TO_COMPANY, not removed) in the same delivery, which parse() copied into the deal event as
  `erphubAssociatedCompanyIds`. A closed-won deal with no associated company is Unmappable (quarantined
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

from datetime import datetime
from typing import Any

from erphub.canonical import Account, Contract, EventEnvelope, EventType
from erphub.errors import Unmappable
from erphub.event_ids import correlation_id_for
from erphub.sources.hubspot import ASSOCIATED_COMPANIES
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c

NAME = "hubspot"
CLOSED_WON_STAGES = frozenset({"closedwon"})
CLOSED_LOST_STAGES = frozenset({"closedlost"})
AMENDMENT_WON_STAGES = frozenset({"amendmentwon"})
RENEWAL_WON_STAGES = frozenset({"renewalwon"})
_COMPANY_FIELDS = {"name": "name", "domain": "domain", "industry": "industry", "country": "country",
                   "lifecyclestage": "lifecycle_status"}


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
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
        return _deal(event, object_id, occurred_at)
    return c.envelope(
        source=NAME, vendor_event_id=event.vendor_event_id, type=EventType.ACCOUNT_UPDATED,
        occurred_at=occurred_at, correlation_id=correlation_id_for("account", NAME, object_id),
        business_key=object_id, version=c.epoch_version(occurred_at), data=_company(payload, object_id),
    )


def _deal(event: VendorEvent, deal_id: str, occurred_at: datetime) -> EventEnvelope | None:
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


def _company(payload: dict[str, Any], company_id: str) -> Account:
    fields: dict[str, Any] = {"account_id": company_id, "name": "", "external_ids": {NAME: company_id}}
    prop = payload.get("propertyName")
    if prop in _COMPANY_FIELDS and payload.get("propertyValue") is not None:
        fields[_COMPANY_FIELDS[prop]] = str(payload["propertyValue"])
    return Account(**fields)
