"""CRM adapter actions for an operator's data fix (issue 9): the CRM that sent a deal masters its fields
(system_of_record.json), so a fix is written to the deal there, and the deal can be read back from there.

Which deal fields each CRM holds where (this integration's deal fields, see sources/salesforce/mapping.py and
connectors/hubspot_deal.py):

- Salesforce: the Opportunity's `Legal_Entities__c` and `Line_Items__c` (long text, JSON arrays), written with
  `PATCH /services/data/v60.0/sobjects/Opportunity/{id}` (REST API v60.0, sObject Rows: any updateable field,
  204 No Content); `CurrencyIsoCode` is read back but not written (multi-currency orgs only).
- HubSpot: the deal property `erphub_legal_entities` (a JSON array as a string: HubSpot property values are
  strings), written with `PATCH /crm/v3/objects/deals/{dealId}` {"properties": {...}} (CRM objects API v3).
  Line items are records of their own in HubSpot, not a field of the deal: the hub does not rewrite them.

Everything else in a deal is not writable here: the operator fixes it in the CRM, and the hub re-reads it.
"""

from __future__ import annotations

import json
from typing import Any

from erphub.canonical import Contract
from erphub.errors import Permanent, ValidationFailed
from erphub.observability import logger
from erphub.workflows.actions import action
from erphub.workflows.run import Run
from erphub.workflows.systems import connector

# deal path (first two segments of a fix's field) -> the vendor's field on the deal record
DEAL_FIELDS: dict[str, dict[str, str]] = {
    "salesforce": {"account.legal_entities": "Legal_Entities__c", "items": "Line_Items__c"},
    "hubspot": {"account.legal_entities": "erphub_legal_entities"},
}
LONG_TEXT_LIMIT = 131_072  # Salesforce Long Text Area's maximum length (Object Reference); HubSpot's is 65,536
_LIMITS = {"salesforce": LONG_TEXT_LIMIT, "hubspot": 65_536}


def writable(system: str) -> dict[str, str]:
    return DEAL_FIELDS.get(system, {})


def _crm_of(run: Run) -> Any:
    """The configured CRM, which must be the one that sent the deal (it masters the deal's fields)."""
    crm, source = connector("crm"), str(run.field("source") or "")
    if crm.system != source:
        raise Permanent(f"the deal came from {source}, this hub writes to CRM_VENDOR={crm.system}",
                        system=crm.system, record=str(run.field("deal_id")))
    return crm


def _encoded(system: str, name: str, value: Any) -> str:
    text = json.dumps(_without_nulls(value), separators=(",", ":"), default=str)
    if len(text) > _LIMITS.get(system, LONG_TEXT_LIMIT):
        raise ValidationFailed(f"{name} would be {len(text)} characters, over {system}'s limit", system=system)
    return text


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@action("crm.write_deal_fields")
def write_deal_fields(run: Run) -> dict[str, Any]:
    """{"deal_id", "source", "fields": {deal path: value}} -> the deal's vendor fields, written in one PATCH."""
    crm, deal_id = _crm_of(run), str(run.field("deal_id"))
    names = writable(crm.system)
    fields: dict[str, Any] = run.field("fields") or {}
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise ValidationFailed(f"{crm.system} deals hold no writable field for {', '.join(unknown)}",
                               system=crm.system, record=deal_id)
    body = {names[path]: _encoded(crm.system, names[path], value) for path, value in fields.items()}
    crm.update_opportunity(deal_id, body)  # HubSpot's connector wraps them in {"properties": ...}
    logger.info("deal fix written to its master", extra={"deal": deal_id, "fields": sorted(body)})
    return {"system": crm.system, "record": f"deal/{deal_id}", "fields": sorted(body)}


@action("crm.read_deal")
def read_deal(run: Run) -> dict[str, Any]:
    """{"deal_id", "source", "contract": the waiting deal} -> the deal as the CRM holds it now."""
    crm, deal_id = _crm_of(run), str(run.field("deal_id"))
    waiting = Contract.model_validate(run.field("contract") or {})
    if crm.system == "hubspot":
        return crm.fetch_deal(deal_id, waiting.account.account_id).model_dump(mode="json")
    return _salesforce_deal(crm.get_opportunity(deal_id), waiting, deal_id).model_dump(mode="json")


def _salesforce_deal(record: dict[str, Any], waiting: Contract, deal_id: str) -> Contract:
    """The waiting deal with the fields the Opportunity holds now (those the outbound message mapped)."""
    from erphub.sources.salesforce.mapping import _legal_entities, _line_items  # the outbound message's parsing

    changes: dict[str, Any] = {}
    if "Legal_Entities__c" in record:
        account = waiting.account.model_copy(update={
            "legal_entities": _legal_entities(record.get("Legal_Entities__c"), deal_id)})
        changes["account"] = account
    if "Line_Items__c" in record:
        changes["items"] = _line_items(record.get("Line_Items__c"), deal_id)
    if record.get("CurrencyIsoCode"):
        changes["currency"] = str(record["CurrencyIsoCode"]).upper()
    return Contract.model_validate({**waiting.model_dump(), **changes})
