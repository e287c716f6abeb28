"""A HubSpot deal, its company and its line items (as the CRM objects API returns them) as a canonical Contract.

HubSpot webhooks carry only ids, so activation reads these properties (standard ones, plus the custom
properties an admin adds, all prefixed `erphub_`):

Deal       dealname, amount, deal_currency_code, closedate, dealstage; erphub_contract_key (the contract this
           deal creates or changes, default the deal id), erphub_contract_version (default 1),
           erphub_previous_deal, erphub_term_start, erphub_term_end, erphub_term_months,
           erphub_non_standard_terms, erphub_legal_entities (JSON array of {entity_id, name, country, tax_id,
           currency, subsidiary}), erphub_reason.
Company    name, domain, industry, country; erphub_tax_id.
Line item  hs_sku, name, quantity, price, recurringbillingfrequency (HubSpot's picklist: monthly, quarterly,
           per_six_months, annually); erphub_legal_entity_id; usage terms in erphub_usage_metric,
           erphub_usage_unit, erphub_included_quantity, erphub_overage_unit_price.
The deal's billing frequency is its recurring line items' (HubSpot keeps it per line item).
"""

from __future__ import annotations

import json
from typing import Any

from erphub.canonical import Account, BillingFrequency, Contract, LegalEntity, SubscriptionItem, UsageTerms
from erphub.errors import Unmappable, ValidationFailed
from erphub.sources.mapping import _common as c

NAME = "hubspot"
DEAL_PROPERTIES = ["dealname", "amount", "deal_currency_code", "closedate", "dealstage", "erphub_contract_key",
                   "erphub_contract_version", "erphub_previous_deal", "erphub_term_start", "erphub_term_end",
                   "erphub_term_months", "erphub_non_standard_terms", "erphub_legal_entities", "erphub_reason"]
COMPANY_PROPERTIES = ["name", "domain", "industry", "country", "erphub_tax_id"]
LINE_ITEM_PROPERTIES = ["hs_sku", "name", "quantity", "price", "recurringbillingfrequency",
                        "erphub_legal_entity_id", "erphub_usage_metric", "erphub_usage_unit",
                        "erphub_included_quantity", "erphub_overage_unit_price"]
_FREQUENCIES = {"monthly": BillingFrequency.MONTHLY, "quarterly": BillingFrequency.QUARTERLY,
                "per_six_months": BillingFrequency.SEMIANNUAL, "annually": BillingFrequency.ANNUAL}


def to_contract(deal: dict[str, Any], company: dict[str, Any], line_items: list[dict[str, Any]]) -> Contract:
    """The canonical contract of a closed deal; ValidationFailed when a property holds what cannot be a value."""
    d, deal_id = deal.get("properties") or {}, str(deal["id"])
    items = [_item(line, deal_id) for line in line_items]
    frequencies = {f for line in line_items
                   if (f := _FREQUENCIES.get(str((line.get("properties") or {}).get("recurringbillingfrequency"))))}
    return Contract(
        contract_id=d.get("erphub_contract_key") or deal_id,
        version=int(_number(d.get("erphub_contract_version"), "erphub_contract_version", deal_id) or 1),
        stage=d.get("dealstage") or None,
        account=_account(company, d.get("erphub_legal_entities"), deal_id),
        currency=c.currency(d.get("deal_currency_code")),
        amount=_number(d.get("amount"), "amount", deal_id),
        # one frequency for the whole deal (billing refuses mixed intervals); several are left for the gate
        billing_frequency=frequencies.pop() if len(frequencies) == 1 else None,
        term_start=c.parse_date(d.get("erphub_term_start")),
        term_end=c.parse_date(d.get("erphub_term_end")),
        term_months=int(_number(d.get("erphub_term_months"), "erphub_term_months", deal_id) or 0) or None,
        items=items,
        non_standard_terms=str(d.get("erphub_non_standard_terms") or "").lower() == "true",
        previous_contract_id=d.get("erphub_previous_deal") or None,
        close_date=c.parse_date(d.get("closedate")),
        reason=d.get("erphub_reason") or None,
    )


def _account(company: dict[str, Any], entities_json: str | None, deal_id: str) -> Account:
    p, company_id = company.get("properties") or {}, str(company["id"])
    return Account(account_id=company_id, name=p.get("name") or "", domain=p.get("domain") or None,
                   tax_id=p.get("erphub_tax_id") or None, industry=p.get("industry") or None,
                   country=p.get("country") or None, legal_entities=_entities(entities_json, deal_id),
                   external_ids={NAME: company_id})


def _entities(text: str | None, deal_id: str) -> list[LegalEntity]:
    if not text:
        return []
    try:
        raw = json.loads(text)
        return [LegalEntity.model_validate({**e, "currency": c.currency(e.get("currency"))}) for e in raw]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationFailed(f"hubspot: deal {deal_id} erphub_legal_entities is not a JSON array of legal "
                               f"entities ({exc})", system=NAME, record=deal_id) from exc


def _item(line: dict[str, Any], deal_id: str) -> SubscriptionItem:
    p, line_id = line.get("properties") or {}, str(line.get("id"))
    usage = None
    if p.get("erphub_usage_metric"):
        overage = _number(p.get("erphub_overage_unit_price"), "erphub_overage_unit_price", line_id)
        if overage is None:
            raise ValidationFailed(f"hubspot: line item {line_id} of deal {deal_id} has a usage metric but no "
                                   "erphub_overage_unit_price", system=NAME, record=line_id)
        usage = UsageTerms(metric=p["erphub_usage_metric"], unit=p.get("erphub_usage_unit") or "unit",
                           included_quantity=_number(p.get("erphub_included_quantity"), "erphub_included_quantity",
                                                     line_id) or 0, overage_unit_price=overage)
    quantity = _number(p.get("quantity"), "quantity", line_id)
    return SubscriptionItem(
        sku=p.get("hs_sku") or "", name=p.get("name") or None, quantity=1 if quantity is None else quantity,
        unit_price=_number(p.get("price"), "price", line_id), usage=usage,
        legal_entity_id=p.get("erphub_legal_entity_id") or None)


def _number(value: Any, field: str, record: str) -> Any:
    try:
        return c.decimal(value, field=field, system=NAME)
    except Unmappable as exc:  # an inbound error in c.decimal; here it is data the CRM returned
        raise ValidationFailed(f"hubspot: {record} {field}={value!r} is not a number", system=NAME,
                               record=record) from exc
