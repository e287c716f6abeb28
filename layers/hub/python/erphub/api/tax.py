"""POST /api/v1/tax/calculate: tax per line and per legal entity for a priced quote shipped to an address - through
the billing vendor's calculation (Stripe Tax) when TAX_ENGINE=billing, otherwise the ERP's tax codes
(tax_codes.json). Which engine is configuration, never the caller's choice."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from erphub.api.models import TaxCalculation, TaxedLine, TaxRequest, TaxTotal
from erphub.errors import ValidationFailed
from erphub.settings import get_settings
from erphub.workflows.systems import connector

CENT = Decimal("0.01")


@cache
def tax_codes() -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "tax_codes.json").read_text())


def engine() -> str:
    return get_settings().tax_engine or "billing"


def calculate(request: TaxRequest) -> TaxCalculation:
    groups: dict[str | None, list[int]] = defaultdict(list)
    first = request.legal_entities[0].entity_id if request.legal_entities else None
    for i, line in enumerate(request.lines):
        groups[line.legal_entity_id or first].append(i)
    if engine() == "erp":
        taxed, reference = _erp(request, groups), None
    else:
        taxed, reference = _billing(request, groups)
    return TaxCalculation(engine="erp_tax_codes" if engine() == "erp" else "stripe_tax", reference=reference,
                          lines=taxed, totals=_totals(taxed, request.currency))


def _erp(request: TaxRequest, groups: dict[str | None, list[int]]) -> list[TaxedLine]:
    by_country = tax_codes()["erp_by_country"]
    code = by_country.get(request.ship_to.country) or by_country["*"]
    rate = Decimal(code["rate_percent"])
    taxed = []
    for entity, indexes in groups.items():
        for i in indexes:
            line = request.lines[i]
            taxed.append(TaxedLine(line=i, sku=line.sku, legal_entity_id=entity, amount=line.amount,
                                   tax_code=line.tax_code or code["code"], rate_percent=rate,
                                   tax_amount=(line.amount * rate / 100).quantize(CENT)))
    return taxed


def _billing(request: TaxRequest, groups: dict[str | None, list[int]]) -> tuple[list[TaxedLine], str | None]:
    from erphub.connectors import stripe_tax

    billing = connector("billing")
    if billing.system != "stripe":
        raise ValidationFailed(f"TAX_ENGINE=billing needs a billing vendor with a tax calculation (Stripe Tax); "
                               f"BILLING_VENDOR is {billing.system}", system=billing.system)
    by_sku = tax_codes()["stripe_by_sku"]
    address = request.ship_to.model_dump(exclude_none=True)
    tax_ids = _tax_ids(request.customer_tax_id, request.ship_to.country)
    taxed, references = [], []
    for entity, indexes in groups.items():
        lines = [{"reference": f"line-{i}", "amount": request.lines[i].amount, "quantity": request.lines[i].quantity,
                  "tax_code": request.lines[i].tax_code or by_sku.get(request.lines[i].sku) or by_sku["*"]}
                 for i in indexes]
        key = "tax:" + hashlib.sha256(json.dumps([entity, lines, address, tax_ids], default=str).encode()).hexdigest()
        found = stripe_tax.calculate(billing, request.currency, lines, address, tax_ids, key)
        references.append(found["id"])
        for i, sent in zip(indexes, lines, strict=True):
            answer = found["lines"].get(sent["reference"])
            if answer is None:
                raise ValidationFailed(f"stripe tax answered no line {sent['reference']}", system="stripe")
            rate = (answer["tax"] * 100 / answer["amount"]).quantize(CENT) if answer["amount"] else None
            taxed.append(TaxedLine(line=i, sku=request.lines[i].sku, legal_entity_id=entity, amount=answer["amount"],
                                   tax_code=answer["tax_code"] or sent["tax_code"], tax_amount=answer["tax"],
                                   rate_percent=rate))
    return sorted(taxed, key=lambda t: t.line), ",".join(r for r in references if r) or None


# Stripe's tax id type by the customer's country (its enum has many more); an unmapped country sends no tax id
TAX_ID_TYPES = {"GB": "gb_vat", "US": "us_ein", "CH": "ch_vat", "NO": "no_vat", "AU": "au_abn"}
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
      "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}


def _tax_ids(tax_id: str | None, country: str) -> list[dict[str, str]]:
    kind = "eu_vat" if country in EU else TAX_ID_TYPES.get(country)
    return [{"type": kind, "value": tax_id}] if tax_id and kind else []


def _totals(lines: list[TaxedLine], currency: str) -> list[TaxTotal]:
    sums: dict[str | None, tuple[Decimal, Decimal]] = {}
    for line in lines:
        amount, tax = sums.get(line.legal_entity_id, (Decimal(0), Decimal(0)))
        sums[line.legal_entity_id] = (amount + line.amount, tax + line.tax_amount)
    return [TaxTotal(legal_entity_id=entity, currency=currency, amount=amount, tax=tax, total=amount + tax)
            for entity, (amount, tax) in sums.items()]
