"""Reconciliation: billing against ERP after an amendment, billing against a renewed opportunity."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from erphub import business_config
from erphub.canonical import Account, Contract, Subscription, SubscriptionItem
from erphub.workflows.comparisons import compare_books, compare_renewal

SOURCE = Path(__file__).resolve().parents[3] / "config" / "business.json"


@pytest.fixture(autouse=True)
def committed_config(monkeypatch):
    """The committed business configuration (prices are not compared), as the functions read it."""
    config = business_config.parse(SOURCE.read_text())
    monkeypatch.setattr(business_config, "current", lambda: config)
    return config


def books(**entities):
    return {"entities": {k: {"items": items, "value": value} for k, (items, value) in entities.items()}}


def test_equal_books_reconcile():
    assert compare_books(books(le1=({"seats": "20"}, "2000")), books(le1=({"seats": "20.0"}, "2000.00"))) == []


def test_a_quantity_difference_is_a_mismatch():
    [mismatch] = compare_books(books(le1=({"seats": "25"}, None)), books(le1=({"seats": "20"}, None)))
    assert mismatch == "le1: seats quantity billing 25 vs ERP 20"


def test_a_value_difference_beyond_one_percent_is_a_mismatch_and_rounding_is_not():
    assert compare_books(books(le1=({}, "1000")), books(le1=({}, "1005"))) == []
    assert compare_books(books(le1=({}, "1000")), books(le1=({}, "1200"))) == ["le1: recurring value billing 1000 vs "
                                                                               "ERP 1200"]


def test_an_entity_missing_on_either_side_is_a_mismatch():
    found = compare_books(books(le1=({}, None)), books(le2=({}, None)))
    assert found == ["le1: billed but not booked in the ERP", "le2: booked in the ERP but not billed"]


def contract(**kw):
    return Contract(contract_id="k", version=2, account=Account(account_id="a", name="A"), **kw)


def test_renewal_alignment_finds_term_items_and_price_differences(monkeypatch, committed_config):
    config = committed_config.model_copy(update={"compare_prices": True})
    monkeypatch.setattr(business_config, "current", lambda: config)
    subscription = Subscription(subscription_id="s", customer_id="c", status="active",
                                current_period_end=date(2026, 1, 1),
                                items=[SubscriptionItem(sku="seats", quantity=Decimal(10), unit_price=Decimal(100)),
                                       SubscriptionItem(sku="sso", quantity=Decimal(1))])
    renewed = contract(term_start=date(2026, 3, 1), billing_frequency="annual")
    found = compare_renewal(subscription, renewed, {"seats": Decimal(10), "analytics": Decimal(1)},
                            {"seats": Decimal(120), "analytics": None})
    assert "analytics is renewed but not billed" in found
    assert "sso is billed but not renewed" in found
    assert any(d.startswith("renewal term starts 2026-03-01") for d in found)
    assert "seats price billing 100/year vs renewal 120" in found


def test_an_aligned_renewal_has_no_differences():
    subscription = Subscription(subscription_id="s", customer_id="c", status="active",
                                current_period_end=date(2026, 1, 1),
                                items=[SubscriptionItem(sku="seats", quantity=Decimal(10), unit_price=Decimal(100))])
    renewed = contract(term_start=date(2026, 1, 1), billing_frequency="annual")
    assert compare_renewal(subscription, renewed, {"seats": Decimal(12)}, {"seats": Decimal(100)}) == []


def test_an_amendment_adds_its_lines_to_the_terms_in_force():
    from erphub.workflows.run import amended

    terms = {"billing_frequency": "annual", "term_start": "2024-06-01", "term_end": "2025-05-31", "items": [
        {"sku": "seats", "quantity": "100", "legal_entity_id": "US"},
        {"sku": "seats", "quantity": "20", "legal_entity_id": "DE"}]}
    change = contract(billing_frequency="quarterly", term_start=date(2024, 9, 1), items=[
        SubscriptionItem(sku="seats", quantity=Decimal(50), legal_entity_id="US"),
        SubscriptionItem(sku="sso", quantity=Decimal(1), legal_entity_id="DE")])
    result = amended(change, terms)
    assert {(i.sku, i.legal_entity_id): i.quantity for i in result.items} == {
        ("seats", "US"): 150, ("seats", "DE"): 20, ("sso", "DE"): 1}
    assert (result.billing_frequency, result.term_start) == ("quarterly", date(2024, 6, 1))


def metered(**entities):
    return {"entities": {k: {"items": {}, "metered": m, "value": None} for k, m in entities.items()}}


def test_metered_items_reconcile_by_presence_and_overage_price_not_by_quantity():
    # Given a usage item billed on a metered price (no quantity) and booked as an overage line (quantity 0)
    billing, erp = metered(le1={"API-CALLS": "0.0004"}), metered(le1={"API-CALLS": "0.00040"})
    assert compare_books(billing, erp) == []
    # a billing system that does not tell the price is matched on presence only
    assert compare_books(metered(le1={"API-CALLS": None}), erp) == []
    assert compare_books(metered(le1={"API-CALLS": "0.0005"}), erp) == [
        "le1: API-CALLS overage price billing 0.0005 vs ERP 0.00040"]
    assert compare_books(metered(le1={}), erp) == [
        "le1: API-CALLS has an overage line in the ERP but is not metered in billing"]
    assert compare_books(billing, metered(le1={})) == [
        "le1: API-CALLS is metered in billing but has no overage line in the ERP"]
