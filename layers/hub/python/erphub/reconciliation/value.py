"""Pure comparison of a contract's value: the amount the CRM's deal states against what the hub applied for it.

The deal compared is the one of the version the hub applied last (an amendment is a deal of its own), and its
value is the value of the lines that deal sold, as the hub applied them (docs/operations.md, "Contract value"):

  value = sum over the deal's licensed lines of quantity x yearly unit price x term months / 12

- the deal's lines: for a first deal or a renewal, the contract's lines; for an amendment, the lines it changed
  (quantities it added, lines it added), which is what the amendment's opportunity sold;
- usage lines are left out: billed in arrears on what is used, they carry no committed value;
- unit prices are yearly, in the deal's currency (the hub bills unit price / periods per year, whatever the
  billing frequency, so the frequency does not change the value);
- term: the deal's term in months, else the months from its term start to its end, else one year.
A deal without an amount, a deal the CRM does not hold, or a version whose lines were not recorded is reported
as not compared, never as a mismatch.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from erphub.reconciliation.books import Mismatch

FIELD = "contract_value"
# CRMs hold amounts to the cent; a prorated term's value is rounded to the cent before it is compared
CENT = Decimal("0.01")


def term_months(start: Any, end: Any) -> int | None:
    """Whole months from a term's first day to its last (2024-06-01 .. 2025-05-31 is 12)."""
    if not start or not end:
        return None
    first, last = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10]) + timedelta(days=1)
    months = (last.year - first.year) * 12 + last.month - first.month - (last.day < first.day)
    return months if months > 0 else None


def deal_lines(terms: dict[str, Any]) -> tuple[list[dict[str, Any]], int] | None:
    """(the applied version's own lines, its term in months); None when they were not recorded (terms applied
    before the hub kept them, for an amendment: its lines are merged into the contract's)."""
    deal = terms.get("deal")
    if isinstance(deal, dict):
        return list(deal.get("items") or []), int(deal.get("term_months") or 12)
    if int(terms.get("version") or 1) == 1:
        return list(terms.get("items") or []), term_months(terms.get("term_start"), terms.get("term_end")) or 12
    return None


def contract_value(terms: dict[str, Any]) -> Decimal | str:
    """The value the hub applied for the version's deal, or why it cannot be told."""
    found = deal_lines(terms)
    if found is None:
        return f"the lines of version {terms.get('version')} were not recorded"
    lines, months = found
    licensed = [line for line in lines if not line.get("usage")]
    if any(line.get("unit_price") in (None, "") for line in licensed):
        return "a line of the deal has no unit price"
    yearly = sum((Decimal(str(line.get("quantity") or 0)) * Decimal(str(line["unit_price"])) for line in licensed),
                 Decimal(0))
    return (yearly * months / 12).quantize(CENT, rounding=ROUND_HALF_UP)


def _money(amount: Decimal, currency: str | None) -> str:
    return f"{amount.normalize():f} {currency or ''}".strip()


def compare_value(contract_id: str, terms: dict[str, Any],
                  deal: dict[str, Any] | None) -> tuple[list[Mismatch], str | None]:
    """(the mismatch, if any; why the value was not compared, if it was not). `deal` is the CRM's deal of the
    applied version: {"deal_id", "amount", "currency"}, None when the CRM holds none."""
    version = terms.get("version") or 1
    if deal is None:
        return [], f"the CRM holds no deal of version {version}"
    if deal.get("amount") in (None, ""):
        return [], f"deal {deal['deal_id']} has no amount"
    value = contract_value(terms)
    if isinstance(value, str):
        return [], value
    amount, currency = Decimal(str(deal["amount"])), terms.get("currency")
    crm_currency = deal.get("currency") or currency
    if abs(amount - value) < CENT and crm_currency == currency:
        return [], None
    return [Mismatch(contract_id=contract_id, entity="", sku=str(deal["deal_id"]), field=FIELD,
                     contract=_money(value, currency), crm=_money(amount, crm_currency))], None
