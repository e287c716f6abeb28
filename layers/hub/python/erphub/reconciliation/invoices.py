"""Pure comparison of a contract's invoices: what billing issued against what the ERP holds for them.

Inputs are plain snapshots, so every billing system and every ERP compare the same way:
  billing  {entity: [{"invoice_id", "status", "total", "amount_paid", "currency", "issued_at"}]}
                                                                     (billing.read_invoices)
  posted   {invoice_id: {"record_id", "total", "units", "paid"} | None}   (erp.read_invoices, from the ledger)
One mismatch per invoice and field, keyed by the billing invoice id (the Mismatch's `sku`), so an unresolved diff
keeps one exception however often it is found.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from erphub.reconciliation.books import Mismatch

# an invoice is finalized in billing in these states (draft and void ones are not the ERP's business)
FINALIZED = {"open", "paid", "posted", "payment_due", "not_paid", "uncollectible"}
# posting is near-real-time (docs/operations.md): an invoice issued within this time may still be on its way
IN_FLIGHT = timedelta(days=1)
# the posting books a per-unit rate rounded to the cent: up to half a cent per unit, and a cent for the sum
HALF_CENT, CENT = Decimal("0.005"), Decimal("0.01")


def _settled(invoice: dict[str, Any], now: datetime) -> bool:
    """Issued longer ago than a posting (or a payment's posting) takes; no issue time: never judged."""
    issued = invoice.get("issued_at")
    return bool(issued) and now - datetime.fromisoformat(str(issued)) > IN_FLIGHT


def _total_differs(billed: Decimal, booked: dict[str, Any]) -> bool:
    return abs(billed - Decimal(str(booked["total"]))) > HALF_CENT * Decimal(str(booked.get("units") or 0)) + CENT


def billed_paid(invoice: dict[str, Any]) -> Decimal:
    """What billing says was paid: a paid invoice is paid in full; otherwise what it reports as paid so far."""
    if str(invoice.get("status") or "").lower() == "paid":
        return Decimal(str(invoice["total"]))
    return Decimal(str(invoice.get("amount_paid") or 0))


def _paid(contract_id: str, entity: str, invoice: dict[str, Any], booked: dict[str, Any]) -> list[Mismatch]:
    billed, erp = billed_paid(invoice), Decimal(str(booked.get("paid") or 0))
    if abs(billed - erp) <= CENT:
        return []
    currency = invoice.get("currency") or ""
    return [Mismatch(contract_id=contract_id, entity=entity, sku=invoice["invoice_id"], field="invoice_paid",
                     billing=f"{billed.normalize():f} {currency}".strip(),
                     erp=f"{erp.normalize():f} {currency}".strip())]


def compare_invoices(contract_id: str, billing: dict[str, list[dict[str, Any]]],
                     posted: dict[str, dict[str, Any] | None], now: datetime) -> list[Mismatch]:
    found: list[Mismatch] = []
    for entity, invoices in sorted(billing.items()):
        for invoice in sorted(invoices, key=lambda i: str(i["invoice_id"])):
            if str(invoice.get("status") or "").lower() not in FINALIZED or invoice["invoice_id"] not in posted:
                continue
            billed, booked = Decimal(str(invoice["total"])), posted[invoice["invoice_id"]]
            amount = f"{billed.normalize():f} {invoice.get('currency') or ''}".strip()
            if booked is None:
                if _settled(invoice, now):
                    found.append(Mismatch(contract_id=contract_id, entity=entity, sku=invoice["invoice_id"],
                                          field="invoice", billing=f"{invoice['status']} {amount}", erp=None))
                continue
            if _total_differs(billed, booked):
                found.append(Mismatch(contract_id=contract_id, entity=entity, sku=invoice["invoice_id"],
                                      field="invoice_total", billing=amount,
                                      erp=f"{Decimal(str(booked['total'])).normalize():f} ({booked['record_id']})"))
            if _settled(invoice, now):  # a payment made today may still be on its way to the ERP
                found += _paid(contract_id, entity, invoice, booked)
    return found
