"""Stripe Tax in the sandbox: POST /v1/tax/calculations answered with a `tax.calculation` as Stripe documents it
(contract: tests/contracts/stripe/tax-calculations.json, which lists what is not confirmed). Amounts are integers in
minor units; each line is taxed at the ship-to country's rate (the rates stand for the account's registrations),
tax rounded half-up per line; `line_items` is in the answer only when asked for with expand[]=line_items."""

from __future__ import annotations

import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from local.sandbox.core import Response
from local.sandbox.forms import unflatten
from local.sandbox.stripe_rules import error

# ship-to country -> (percentage, tax type); elsewhere the account is not registered: not_collecting
RATES = {"DE": (Decimal("19"), "vat"), "FR": (Decimal("20"), "vat"), "GB": (Decimal("20"), "vat"),
         "NL": (Decimal("21"), "vat"), "US": (Decimal("0"), "sales_tax")}
EXPIRES_SECONDS = 90 * 86400


def calculate(form: list[tuple[str, str]]) -> Response:
    params = unflatten(form)
    lines = params.get("line_items") or []
    if not isinstance(lines, list) or not lines:
        return error(400, "invalid_request_error", "Missing required param: line_items.", "parameter_missing",
                     "line_items")
    details = params.get("customer_details") or {}
    address = details.get("address") or {}
    country = address.get("country")
    if not country:
        return error(400, "invalid_request_error", "Missing required param: customer_details[address][country].",
                     "parameter_missing", "customer_details[address][country]")
    rate, tax_type = RATES.get(country, (Decimal(0), "vat"))
    calc_id = f"taxcalc_{uuid.uuid4().hex[:24]}"
    items = [_line(calc_id, i, line, rate) for i, line in enumerate(lines)]
    taxable = sum(item["amount"] for item in items)
    tax = sum(item["amount_tax"] for item in items)
    now = int(time.time())
    calculation: dict[str, Any] = {
        "id": calc_id, "object": "tax.calculation", "amount_total": taxable + tax, "currency": params["currency"],
        "customer": params.get("customer"),
        "customer_details": {"address": address, "address_source": details.get("address_source"),
                             "ip_address": None, "tax_ids": details.get("tax_ids") or [],
                             "taxability_override": "none"},
        "expires_at": now + EXPIRES_SECONDS, "livemode": False, "ship_from_details": None, "shipping_cost": None,
        "tax_amount_exclusive": tax, "tax_amount_inclusive": 0, "tax_date": now,
        "tax_breakdown": [{"amount": tax, "inclusive": False, "taxable_amount": taxable,
                           "taxability_reason": "standard_rated" if country in RATES else "not_collecting",
                           "tax_rate_details": {"country": country, "state": address.get("state"),
                                                "percentage_decimal": f"{rate:.4f}", "tax_type": tax_type}}],
    }
    if "line_items" in (params.get("expand") or []):
        calculation["line_items"] = {"object": "list", "data": items, "has_more": False,
                                     "url": f"/v1/tax/calculations/{calc_id}/line_items"}
    return Response(200, calculation)


def _line(calc_id: str, index: int, line: dict[str, Any], rate: Decimal) -> dict[str, Any]:
    amount = int(line["amount"])
    tax = int((Decimal(amount) * rate / 100).quantize(Decimal(1), ROUND_HALF_UP))
    return {"id": f"tax_li_{uuid.uuid5(uuid.NAMESPACE_URL, f'{calc_id}:{index}').hex[:24]}",
            "object": "tax.calculation_line_item", "amount": amount, "amount_tax": tax, "livemode": False,
            "product": line.get("product"), "quantity": int(line.get("quantity") or 1),
            "reference": line.get("reference"), "tax_behavior": line.get("tax_behavior") or "exclusive",
            "tax_breakdown": None, "tax_code": line.get("tax_code") or "txcd_10000000"}
