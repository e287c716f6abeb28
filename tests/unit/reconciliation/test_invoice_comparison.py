"""A contract's invoices, billing against the ERP: missing postings (past the time a posting takes), totals that
differ beyond the posting's rounding, and nothing for drafts, in-flight postings or an ERP that was not read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from erphub.reconciliation.invoices import compare_invoices

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
OLD, RECENT = (NOW - timedelta(days=3)).isoformat(), (NOW - timedelta(hours=2)).isoformat()


def invoice(invoice_id: str, total: str, status: str = "paid", issued_at: str | None = OLD) -> dict:
    return {"invoice_id": invoice_id, "status": status, "total": total, "currency": "USD", "issued_at": issued_at}


def test_an_invoice_missing_in_the_erp_and_one_whose_total_differs_are_each_one_mismatch():
    # Given billing's invoices of one entity, one never posted and one posted for less
    billing = {"LE-US": [invoice("in_2", "1200.00"), invoice("in_1", "500.00"), invoice("in_3", "99.99")]}
    posted = {"in_1": None, "in_2": {"record_id": "INV-2", "total": "1100", "units": "10", "paid": "1200"},
              "in_3": {"record_id": "INV-3", "total": "99.990", "units": "1", "paid": "99.99"}}
    # When compared
    found = compare_invoices("OPP-1", billing, posted, NOW)
    # Then each names the invoice, the field and both systems' values
    assert [m.model_dump() for m in found] == [
        {"contract_id": "OPP-1", "entity": "LE-US", "sku": "in_1", "field": "invoice", "contract": None,
         "billing": "paid 500 USD", "erp": None},
        {"contract_id": "OPP-1", "entity": "LE-US", "sku": "in_2", "field": "invoice_total", "contract": None,
         "billing": "1200 USD", "erp": "1100 (INV-2)"}]
    assert found[0].key == "OPP-1:LE-US:in_1:invoice"


def test_the_postings_cent_rounding_per_unit_is_no_mismatch():
    # 3 units of 333.333 booked as 333.33 each: a cent short of billing's 1000.00
    posted = {"in_1": {"record_id": "INV-1", "total": "999.99", "units": "3", "paid": "1000"}}
    assert compare_invoices("OPP-1", {"LE-US": [invoice("in_1", "1000.00")]}, posted, NOW) == []
    posted = {"in_1": {"record_id": "INV-1", "total": "999.90", "units": "3", "paid": "1000"}}
    assert len(compare_invoices("OPP-1", {"LE-US": [invoice("in_1", "1000.00")]}, posted, NOW)) == 1


def test_drafts_in_flight_postings_and_an_erp_not_read_raise_nothing():
    billing = {"LE-US": [invoice("in_d", "10", status="draft"), invoice("in_new", "10", issued_at=RECENT),
                         invoice("in_undated", "10", issued_at=None), invoice("in_unread", "10")]}
    posted = {"in_d": None, "in_new": None, "in_undated": None}  # in_unread: the ERP's invoices were not read
    assert compare_invoices("OPP-1", billing, posted, NOW) == []


def test_a_paid_invoice_whose_payments_in_the_erp_fall_short_is_one_mismatch():
    # Given billing's paid invoice and an open one partly paid, both posted; the ERP holds less for the first
    billing = {"LE-DE": [invoice("in_1", "800.00"), {**invoice("in_2", "300", status="open"), "amount_paid": "100"}]}
    posted = {"in_1": {"record_id": "INV-1", "total": "800", "units": "8", "paid": "400"},
              "in_2": {"record_id": "INV-2", "total": "300", "units": "3", "paid": "100.00"}}
    # Then the first is an invoice_paid mismatch with both systems' paid amounts; the second matches
    [found] = compare_invoices("OPP-1", billing, posted, NOW)
    assert (found.sku, found.field, found.billing, found.erp) == ("in_1", "invoice_paid", "800 USD", "400 USD")
    # And an invoice issued today is not judged on its payments yet (one may be on its way to the ERP)
    recent = {"LE-DE": [invoice("in_1", "800.00", issued_at=RECENT)]}
    assert compare_invoices("OPP-1", recent, posted, NOW) == []
