"""Scheduled reconciliation compares invoices billing <-> ERP, on the NetSuite (Stripe) and the Dynamics 365
(Chargebee) rows: an invoice posted to the ERP whose line an accountant then changed, and an invoice billing issued
days ago that never reached the ERP, each open one exception with the diff; a second run opens nothing new."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from matrix import ROWS, MatrixDeal, activate, subscriptions
from test_reconciliation import _start, reconciliation_exceptions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
THREE_DAYS_AGO = int(time.time()) - 3 * 86400


@pytest.fixture(scope="module", params=ROWS, ids=[r.id for r in ROWS])
def row(request):
    return request.param


@pytest.fixture(scope="module")
def stack_parameters(row):
    return row.parameters()


def billing_invoice(hub: Any, row: Any, subscription: dict[str, Any]) -> dict[str, Any]:
    """The invoice the billing sandbox issued when the subscription was created."""
    key = "subscription" if row.billing == "stripe" else "subscription_id"
    (invoice,) = [i for i in hub.records(row.billing, "invoice") if i.get(key) == subscription["id"]]
    return invoice


def post_to_erp(hub: Any, row: Any, invoice: dict[str, Any]) -> str:
    """The ERP poster's call for this invoice (the ERP adapter's erp.post_invoice); returns the ERP record id."""
    from datetime import UTC, datetime

    from erphub.canonical import Invoice, InvoiceLine
    from erphub.canonical.envelope import EventEnvelope, EventType, event_id_for

    currency = (invoice.get("currency") or invoice.get("currency_code")).upper()
    lines = [InvoiceLine(description=line["description"], amount=Decimal(line["amount"]) / 100)
             for line in (invoice["lines"]["data"] if row.billing == "stripe" else invoice["line_items"])]
    data = Invoice(invoice_id=invoice["id"], customer_id=invoice.get("customer") or invoice["customer_id"],
                   status="open", currency=currency, total=Decimal(invoice["total"]) / 100, lines=lines)
    event_id = uuid.uuid4().hex
    envelope = EventEnvelope(event_id=event_id_for(row.billing, event_id), type=EventType.INVOICE_FINALIZED,
                             source=row.billing, source_event_id=event_id, occurred_at=datetime.now(UTC),
                             correlation_id=f"invoice:{row.billing}:{invoice['id']}", business_key=data.customer_id,
                             data=data)
    posted = hub.stack.invoke("ErpAdapterFunction", {"action": "erp.post_invoice",
                                                     "state": {"event": envelope.model_dump(mode="json")}})
    return posted["invoice"]


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


def issued_days_ago(hub: Any, row: Any, invoice: dict[str, Any]) -> None:
    """The invoice billing issued three days ago (its webhook never reached the hub)."""
    hub.sandbox.seed(row.billing, "invoice", {**invoice, ("created" if row.billing == "stripe" else "date"):
                                                THREE_DAYS_AGO})


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
