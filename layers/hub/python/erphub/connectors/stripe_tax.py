"""Stripe Tax: POST /v1/tax/calculations (form-encoded) - the tax to collect for line items shipped to an address.

Facts used (Stripe API reference, "Create a Tax Calculation", and the stripe-node 18.5 types generated from
Stripe's OpenAPI spec): `currency` (lower case) and `line_items[]` are required; each line has `amount` (integer,
minor units), `reference`, `tax_code` (e.g. txcd_10103001 SaaS - business use), `tax_behavior`
(exclusive|inclusive), `quantity`; `customer_details[address][country]` (+ postal_code, state, city, line1),
`customer_details[address_source]` (billing|shipping), `customer_details[tax_ids][]` {type, value}. The answer
is a `tax.calculation` (id taxcalc_..., amount_total, tax_amount_exclusive, tax_breakdown[], expires_at) whose
`line_items` list (tax.calculation_line_item: amount, amount_tax, reference, tax_code) newer API versions
include only when expanded, so the request always asks for `expand[]=line_items`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.connectors.form_encoding import flatten
from erphub.connectors.stripe import ZERO_DECIMAL, StripeBilling, to_major

SAAS_BUSINESS_USE = "txcd_10103001"


def to_minor(amount: Decimal, currency: str) -> int:
    value = amount if currency.upper() in ZERO_DECIMAL else amount * 100
    return int(value.quantize(Decimal(1)))


def calculate(billing: StripeBilling, currency: str, lines: list[dict[str, Any]], address: dict[str, str],
              tax_ids: list[dict[str, str]], idempotency_key: str) -> dict[str, Any]:
    """lines: {"reference", "amount" (major units), "tax_code", "quantity"}; returns the calculation with each
    line's amount and tax in major units: {"id", "lines": {reference: {"amount", "tax", "tax_code"}}}."""
    params: dict[str, Any] = {
        "currency": currency.lower(),
        "line_items": [{"amount": to_minor(line["amount"], currency), "reference": line["reference"],
                        "tax_code": line["tax_code"], "tax_behavior": "exclusive",
                        "quantity": int(line.get("quantity") or 1)} for line in lines],
        "customer_details": {"address": address, "address_source": "shipping", "tax_ids": tax_ids},
        "expand": ["line_items"],
    }
    found = billing.http.json("POST", "/v1/tax/calculations", data=flatten(params), idempotency_key=idempotency_key,
                              headers={"Idempotency-Key": idempotency_key}, record="tax.calculation")
    data = ((found or {}).get("line_items") or {}).get("data") or []
    return {"id": found.get("id"), "lines": {item["reference"]: {
        "amount": to_major(item["amount"], currency), "tax": to_major(item["amount_tax"], currency),
        "tax_code": item.get("tax_code")} for item in data}}
