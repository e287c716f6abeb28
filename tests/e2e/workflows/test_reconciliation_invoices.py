"""Scheduled reconciliation compares invoices and payments billing <-> ERP, on the NetSuite (Stripe) and the
Dynamics 365 (Chargebee) rows: an invoice posted to the ERP whose line an accountant then changed, an invoice billing
issued days ago that never reached the ERP, and a paid invoice whose payment was changed in the ERP, each open one
exception with the diff; a second run opens nothing new."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from matrix import ROWS, MatrixDeal, activate, subscriptions
from matrix_rows import row_fixtures
from test_reconciliation import _start, reconciliation_exceptions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
THREE_DAYS_AGO = int(time.time()) - 3 * 86400


row, stack_parameters = row_fixtures(ROWS)


def billing_invoice(hub: Any, row: Any, subscription: dict[str, Any]) -> dict[str, Any]:
    """The invoice the billing sandbox issued when the subscription was created."""
    key = "subscription" if row.billing == "stripe" else "subscription_id"
    (invoice,) = [i for i in hub.records(row.billing, "invoice") if i.get(key) == subscription["id"]]
    return invoice


def envelope(row: Any, event_type: Any, data: Any, key: str) -> dict[str, Any]:
    """The canonical event the ERP poster hands the ERP adapter."""
    from datetime import UTC, datetime

    from erphub.canonical.envelope import EventEnvelope, event_id_for

    event_id = uuid.uuid4().hex
    return EventEnvelope(event_id=event_id_for(row.billing, event_id), type=event_type, source=row.billing,
                         source_event_id=event_id, occurred_at=datetime.now(UTC), correlation_id=f"posting:{key}",
                         business_key=data.customer_id, data=data).model_dump(mode="json")


def post_to_erp(hub: Any, row: Any, invoice: dict[str, Any]) -> str:
    """The ERP poster's call for this invoice (the ERP adapter's erp.post_invoice); returns the ERP record id."""
    from erphub.canonical import Invoice, InvoiceLine
    from erphub.canonical.envelope import EventType

    currency = (invoice.get("currency") or invoice.get("currency_code")).upper()
    lines = [InvoiceLine(description=line["description"], amount=Decimal(line["amount"]) / 100)
             for line in (invoice["lines"]["data"] if row.billing == "stripe" else invoice["line_items"])]
    data = Invoice(invoice_id=invoice["id"], customer_id=invoice.get("customer") or invoice["customer_id"],
                   status="open", currency=currency, total=Decimal(invoice["total"]) / 100, lines=lines)
    event = envelope(row, EventType.INVOICE_FINALIZED, data, invoice["id"])
    return hub.stack.invoke("ErpAdapterFunction", {"action": "erp.post_invoice", "state": {"event": event}})["invoice"]


def pay_in_erp(hub: Any, row: Any, invoice: dict[str, Any]) -> str:
    """Billing's payment of the whole invoice, posted by the ERP adapter (erp.post_payment); the ERP record id."""
    from erphub.canonical import Payment
    from erphub.canonical.envelope import EventType

    data = Payment(payment_id=f"pay_{uuid.uuid4().hex[:12]}", invoice_id=invoice["id"],
                   customer_id=invoice.get("customer") or invoice["customer_id"], status="succeeded",
                   amount=Decimal(invoice["total"]) / 100,
                   currency=(invoice.get("currency") or invoice.get("currency_code")).upper())
    event = envelope(row, EventType.PAYMENT_SUCCEEDED, data, data.payment_id)
    return hub.stack.invoke("ErpAdapterFunction", {"action": "erp.post_payment", "state": {"event": event}})["payment"]


def change_erp_payment(hub: Any, row: Any, record_id: str, amount: Decimal) -> None:
    """An accountant edits the payment's amount in the ERP."""
    if row.erp == "netsuite":
        (record,) = [p for p in hub.records("netsuite", "customerPayment") if p.get("externalId") == record_id]
        hub.sandbox.seed("netsuite", "customerPayment", {**record, "payment": float(amount)})
        return
    (record,) = [p for p in hub.records("dynamics", "erphub_payments") if p.get("erphub_externalid") == record_id]
    hub.sandbox.seed("dynamics", "erphub_payments", {**record, "erphub_amount": float(amount)})


def change_erp_invoice_rate(hub: Any, row: Any, record_id: str, factor: Decimal) -> Decimal:
    """An accountant edits the posted invoice's first line in the ERP; returns the ERP invoice's new total."""
    if row.erp == "netsuite":
        (record,) = [i for i in hub.records("netsuite", "invoice") if i.get("externalId") == record_id]
        lines = record["item"]["items"]
        lines[0]["rate"] = float(Decimal(str(lines[0]["rate"])) * factor)
        hub.sandbox.seed("netsuite", "invoice", record)
        return sum((Decimal(str(line["quantity"])) * Decimal(str(line["rate"])) for line in lines), Decimal(0))
    lines = sorted((line for line in hub.records("dynamics", "invoicedetails")
                    if line["erphub_externalid"].startswith(record_id + "-")), key=lambda line: line["lineitemnumber"])
    lines[0] = {**lines[0], "priceperunit": float(Decimal(str(lines[0]["priceperunit"])) * factor)}
    hub.sandbox.seed("dynamics", "invoicedetails", lines[0])
    return sum((Decimal(str(line["quantity"])) * Decimal(str(line["priceperunit"])) for line in lines), Decimal(0))


def issued_days_ago(hub: Any, row: Any, invoice: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The invoice billing issued three days ago (its webhook never reached the hub)."""
    changed = {**invoice, ("created" if row.billing == "stripe" else "date"): THREE_DAYS_AGO, **fields}
    hub.sandbox.seed(row.billing, "invoice", changed)
    return changed


def amount(value: Decimal) -> str:
    return f"{value.normalize():f}"


def test_an_invoice_changed_in_the_erp_and_one_missing_from_it_each_open_one_exception(hub, row):
    # Given an activated two-entity deal whose US invoice was posted to the ERP, then changed there (rate x 0.9),
    # and whose German invoice, issued three days ago, never reached the ERP
    deal = MatrixDeal("ReconInv", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    subs = subscriptions(hub, row, deal)
    us, de = billing_invoice(hub, row, subs["LE-US"]), billing_invoice(hub, row, subs["LE-DE"])
    record_id = post_to_erp(hub, row, us)
    booked = change_erp_invoice_rate(hub, row, record_id, Decimal("0.9"))
    issued_days_ago(hub, row, de)
    # When reconciliation runs
    report = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, f"inv-{deal.n}")})
    assert report["status"] == "completed" and report["failed"] == 0
    # Then one exception per invoice names the invoice, the field and each system's value
    found = {e["detail"]["mismatch"]["sku"]: e["detail"]["mismatch"] for e in reconciliation_exceptions(
        hub, deal.opportunity_id)}
    us_total = Decimal(us["total"]) / 100
    assert found == {
        us["id"]: {"contract_id": deal.opportunity_id, "entity": "LE-US", "sku": us["id"], "field": "invoice_total",
                   "contract": None, "billing": f"{amount(us_total)} USD", "erp": f"{amount(booked)} ({record_id})"},
        de["id"]: {"contract_id": deal.opportunity_id, "entity": "LE-DE", "sku": de["id"], "field": "invoice",
                   "contract": None, "billing": f"{de['status']} {amount(Decimal(de['total']) / 100)} EUR",
                   "erp": None}}
    # And a second run finds the same unresolved diffs and opens nothing new
    again = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, f"inv-again-{deal.n}")})
    assert again["exceptions_opened"] == 0 and again["mismatched"] >= 1
    assert len(reconciliation_exceptions(hub, deal.opportunity_id)) == 2


def test_a_paid_invoice_whose_payment_was_changed_in_the_erp_opens_one_exception(hub, row):
    # Given a deal whose US invoice, issued three days ago, billing reports paid, and whose payment reached the ERP
    deal = MatrixDeal("ReconPay", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    us = issued_days_ago(hub, row, billing_invoice(hub, row, subscriptions(hub, row, deal)["LE-US"]), status="paid")
    post_to_erp(hub, row, us)
    payment = pay_in_erp(hub, row, us)
    # When an accountant halves the payment in the ERP and reconciliation runs
    total = Decimal(us["total"]) / 100
    change_erp_payment(hub, row, payment, total / 2)
    report = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, f"pay-{deal.n}")})
    assert report["status"] == "completed" and report["failed"] == 0
    # Then one exception names the invoice and what each system says was paid
    (exception,) = reconciliation_exceptions(hub, deal.opportunity_id)
    assert exception["detail"]["mismatch"] == {
        "contract_id": deal.opportunity_id, "entity": "LE-US", "sku": us["id"], "field": "invoice_paid",
        "contract": None, "billing": f"{amount(total)} USD", "erp": f"{amount(total / 2)} USD"}
