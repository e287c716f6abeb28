"""Salesforce sObjects (as an Outbound Message carries them) into canonical CRM events.

A module of its own, imported only when an event is normalized (workflows.actions.crm_masters reuses its field
parsing), so the webhook's ack path (verify, parse, acknowledge) imports no pydantic.

Outbound Messages carry only the fields of the one object the admin ticks, so the hub relies on these
fields (standard ones plus custom fields and formulas the admin adds to Opportunity and Account):

Opportunity
  Id, AccountId, StageName, Type, Amount, CurrencyIsoCode, CloseDate, LastModifiedDate (required: the
  event's time) - standard.
  Account_Name__c (formula: Account.Name; required when closed won), Owner_Email__c (formula: Owner.Email).
  Contract_Key__c     id of the contract this opportunity creates or changes; defaults to the opportunity Id
                      (amendments carry the original opportunity's Id so all versions share one business key).
  Contract_Version__c number, 1 for a new contract, +1 per amendment (default 1).
  Previous_Opportunity__c  the opportunity this one amends or renews.
  Billing_Frequency__c     picklist Monthly / Quarterly / Semi-Annual / Annual.
  Term_Start__c, Term_End__c (date), Term_Months__c (number), Non_Standard_Terms__c (checkbox).
  Legal_Entities__c   long text, JSON array of {entity_id, name, country, tax_id, currency, subsidiary}.
  Line_Items__c       long text, JSON array of {sku, name, quantity, unit_price, legal_entity_id,
                      usage: {metric, unit, included_quantity, overage_unit_price}}.
  Loss_Reason__c, Amendment_Reason__c -> Contract.reason.
  StageName 'Closed Won' -> crm.opportunity.closed_won, or .renewed when Type = 'Renewal', or .amended when
  Type = 'Amendment' or Contract_Version__c > 1; 'Closed Lost' -> crm.opportunity.closed_lost; other stages
  are ignored.
Account -> crm.account.updated
  Id, Name, Website, Industry, BillingCountryCode (or BillingCountry), LastModifiedDate; Tax_Id__c,
  Owner_Email__c, Customer_Status__c, Legal_Entities__c (as above), NetSuite_Customer_Id__c
  (-> external_ids["netsuite"]).
"""

from __future__ import annotations

import json
from typing import Any

from erphub.canonical import Account, Contract, EventEnvelope, EventType, LegalEntity, SubscriptionItem, UsageTerms
from erphub.errors import Unmappable
from erphub.event_ids import correlation_id_for as correlation
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c

NAME = "salesforce"
CLOSED_WON, CLOSED_LOST = "Closed Won", "Closed Lost"


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
    sobject_type = event.payload["sObjectType"]
    fields: dict[str, str | None] = event.payload["fields"]
    if sobject_type == "Opportunity":
        return _opportunity(event, fields)
    if sobject_type == "Account":
        account = _account(fields, event.vendor_event_id)
        occurred_at = _modified(fields, event.vendor_event_id)
        return c.envelope(
            source=NAME, vendor_event_id=event.vendor_event_id, type=EventType.ACCOUNT_UPDATED,
            occurred_at=occurred_at, correlation_id=correlation("account", NAME, account.account_id),
            business_key=account.account_id, version=c.epoch_version(occurred_at), data=account,
        )
    return None


def _opportunity(event: VendorEvent, f: dict[str, str | None]) -> EventEnvelope | None:
    stage = f.get("StageName")
    if stage not in (CLOSED_WON, CLOSED_LOST):
        return None
    record = event.vendor_event_id
    opportunity_id = c.require(f.get("Id"), "Opportunity Id", NAME, record)
    version = int(c.decimal(f.get("Contract_Version__c"), field="Contract_Version__c", system=NAME, default=1) or 1)
    opportunity_type = (f.get("Type") or "").strip().lower()
    if stage == CLOSED_LOST:
        kind = EventType.OPPORTUNITY_CLOSED_LOST
    elif opportunity_type == "renewal":
        kind = EventType.OPPORTUNITY_RENEWED
    elif opportunity_type == "amendment" or version > 1:
        kind = EventType.OPPORTUNITY_AMENDED
    else:
        kind = EventType.OPPORTUNITY_CLOSED_WON
    won = kind != EventType.OPPORTUNITY_CLOSED_LOST
    account_id = f.get("AccountId") or ""
    account_name = f.get("Account_Name__c") or ""
    if won:
        c.require(account_id, f"AccountId of closed-won opportunity {opportunity_id}", NAME, opportunity_id)
        c.require(account_name, f"Account_Name__c of closed-won opportunity {opportunity_id}", NAME, opportunity_id)
    entities = _legal_entities(f.get("Legal_Entities__c"), opportunity_id)
    contract_id = f.get("Contract_Key__c") or opportunity_id
    contract = Contract(
        contract_id=contract_id,
        version=version,
        stage=stage,
        account=Account(account_id=account_id, name=account_name, legal_entities=entities,
                        external_ids={NAME: account_id} if account_id else {}),
        currency=c.currency(f.get("CurrencyIsoCode")),
        amount=c.decimal(f.get("Amount"), field="Amount", system=NAME),
        billing_frequency=c.frequency_name(f.get("Billing_Frequency__c")),
        term_start=c.parse_date(f.get("Term_Start__c")),
        term_end=c.parse_date(f.get("Term_End__c")),
        term_months=int(c.decimal(f.get("Term_Months__c"), field="Term_Months__c", system=NAME) or 0) or None,
        items=_line_items(f.get("Line_Items__c"), opportunity_id),
        non_standard_terms=(f.get("Non_Standard_Terms__c") or "").lower() == "true",
        previous_contract_id=f.get("Previous_Opportunity__c") or None,
        close_date=c.parse_date(f.get("CloseDate")),
        owner_email=f.get("Owner_Email__c") or None,
        reason=(f.get("Loss_Reason__c") if not won else f.get("Amendment_Reason__c")) or None,
    )
    return c.envelope(
        source=NAME, vendor_event_id=record, type=kind, occurred_at=_modified(f, record),
        correlation_id=correlation("contract", NAME, contract_id), business_key=contract_id,
        version=str(version), data=contract,
    )


def _account(f: dict[str, str | None], record: str) -> Account:
    account_id = c.require(f.get("Id"), "Account Id", NAME, record)
    external_ids = {NAME: account_id}
    if f.get("NetSuite_Customer_Id__c"):
        external_ids["netsuite"] = str(f["NetSuite_Customer_Id__c"])
    website = (f.get("Website") or "").strip()
    domain = website.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.") or None
    return Account(
        account_id=account_id,
        name=c.require(f.get("Name"), f"Name of account {account_id}", NAME, record),
        domain=domain,
        tax_id=f.get("Tax_Id__c") or None,
        industry=f.get("Industry") or None,
        country=f.get("BillingCountryCode") or f.get("BillingCountry") or None,
        owner_email=f.get("Owner_Email__c") or None,
        lifecycle_status=f.get("Customer_Status__c") or None,
        legal_entities=_legal_entities(f.get("Legal_Entities__c"), account_id),
        external_ids=external_ids,
    )


def _modified(f: dict[str, str | None], record: str) -> Any:
    stamp = f.get("LastModifiedDate") or f.get("SystemModstamp")
    return c.parse_datetime(c.require(stamp, "LastModifiedDate (add it to the outbound message fields)",
                                      NAME, record))


def _json_list(text: str | None, field: str, record: str) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unmappable(f"salesforce: {field} is not JSON ({exc})", system=NAME, record=record) from exc
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Unmappable(f"salesforce: {field} is not a JSON array of objects", system=NAME, record=record)
    return value


def _legal_entities(text: str | None, record: str) -> list[LegalEntity]:
    entities = []
    for item in _json_list(text, "Legal_Entities__c", record):
        if item.get("currency"):
            item = {**item, "currency": str(item["currency"]).upper()}
        entities.append(LegalEntity.model_validate(item))
    return entities


def _line_items(text: str | None, record: str) -> list[SubscriptionItem]:
    items = []
    for item in _json_list(text, "Line_Items__c", record):
        usage = item.get("usage")
        items.append(SubscriptionItem(
            sku=c.require(item.get("sku"), "Line_Items__c sku", NAME, record),
            name=item.get("name"),
            quantity=c.decimal(item.get("quantity", 1), field="quantity", system=NAME),
            unit_price=c.decimal(item.get("unit_price"), field="unit_price", system=NAME),
            usage=UsageTerms.model_validate(usage) if usage else None,
            legal_entity_id=item.get("legal_entity_id"),
        ))
    return items
