"""Comparing one contract across its terms, billing and the ERP: each mismatch names its entity, item and field
with every system's value, so the operator sees which system drifted."""

from __future__ import annotations

from erphub.reconciliation.books import compare, contracted, is_active

TERMS = {"billing_frequency": "annual", "items": [
    {"sku": "PLATFORM-ENT", "quantity": 100, "legal_entity_id": "LE-US"},
    {"sku": "API-CALLS", "quantity": 0, "legal_entity_id": "LE-US", "usage": {"metric": "api_calls"}},
    {"sku": "PLATFORM-ENT", "quantity": 20, "legal_entity_id": "LE-DE"}]}


def billing(us: str = "100", de: str = "20", frequency: str = "annual") -> dict:
    return {"LE-US": {"status": "active", "billing_frequency": frequency, "items": {"PLATFORM-ENT": us},
                      "metered": ["API-CALLS"]},
            "LE-DE": {"status": "active", "billing_frequency": frequency, "items": {"PLATFORM-ENT": de},
                      "metered": []}}


def erp(us: str = "100.0", de: str = "20") -> dict:
    return {"LE-US": {"items": {"PLATFORM-ENT": us}, "metered": ["API-CALLS"]},
            "LE-DE": {"items": {"PLATFORM-ENT": de}, "metered": []}}


def test_books_that_agree_have_no_mismatch():
    assert compare("C1", TERMS, billing(), erp()) == []


def test_an_erp_line_changed_behind_the_hubs_back_is_one_mismatch_blaming_the_erp():
    # Given the ERP's US order line went from 100 to 90
    found = compare("C1", TERMS, billing(), erp(us="90"))
    # Then one quantity mismatch, contract and billing agreeing on 100
    assert [m.model_dump() for m in found] == [{"contract_id": "C1", "entity": "LE-US", "sku": "PLATFORM-ENT",
                                                "field": "quantity", "contract": "100", "billing": "100",
                                                "erp": "90"}]
    assert found[0].key == "C1:LE-US:PLATFORM-ENT:quantity"


def test_a_billing_quantity_changed_keeps_the_same_key_whatever_the_value():
    first, second = compare("C1", TERMS, billing(de="25"), erp()), compare("C1", TERMS, billing(de="30"), erp())
    assert [m.billing for m in first + second] == ["25", "30"]
    assert first[0].key == second[0].key == "C1:LE-DE:PLATFORM-ENT:quantity"


def test_a_missing_order_a_lost_overage_line_and_a_frequency_change_are_each_found():
    books = erp()
    books["LE-US"]["metered"] = []
    del books["LE-DE"]
    found = {(m.entity, m.sku, m.field) for m in compare("C1", TERMS, billing(frequency="quarterly"), books)}
    assert found == {("LE-DE", "", "record"), ("LE-US", "API-CALLS", "metered"), ("LE-US", "", "billing_frequency")}


def test_an_item_only_in_the_erp_is_a_mismatch():
    books = erp()
    books["LE-DE"]["items"]["ANALYTICS"] = "5"
    (mismatch,) = compare("C1", TERMS, billing(), books)
    assert (mismatch.sku, mismatch.contract, mismatch.billing, mismatch.erp) == ("ANALYTICS", None, None, "5")


def test_prices_are_compared_only_where_configured(monkeypatch, committed):
    from erphub import business_config
    from erphub.workflows import comparisons

    assert comparisons.compare_prices() is False
    bill, books = billing(), erp()
    bill["LE-US"]["prices"], books["LE-US"]["rates"] = {"PLATFORM-ENT": "1200"}, {"PLATFORM-ENT": "1000"}
    assert compare("C1", TERMS, bill, books) == []
    priced = committed.model_copy(update={"compare_prices": True})
    monkeypatch.setattr(business_config, "current", lambda: priced)
    (mismatch,) = compare("C1", TERMS, bill, books)
    assert (mismatch.field, mismatch.billing, mismatch.erp) == ("price", "1200", "1000")


def test_unassigned_items_count_for_a_single_entity_only():
    terms = {"items": [{"sku": "X", "quantity": 3}]}
    assert contracted(terms, ["ACME"]) == {"ACME": {"X": "3"}}
    assert contracted(terms, ["A", "B"]) == {"A": {}, "B": {}}


def test_a_cancelled_subscription_or_one_ending_at_period_end_is_not_active():
    assert not is_active({"LE-US": {"status": "canceled"}}) and is_active({"LE-US": {"status": "active"}})
    assert not is_active({"LE-US": {"status": "active", "ending": True}})
