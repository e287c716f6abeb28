"""The contract's value against the CRM deal's amount (erphub/reconciliation/value.py): what the value is (term,
usage lines, an amendment's own lines), what is a mismatch and what is only reported as not compared."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erphub.reconciliation.books import Mismatch
from erphub.reconciliation.value import compare_value, contract_value, term_months

SEATS_US = {"sku": "PLATFORM-ENT", "quantity": "100", "unit_price": "1200.00", "legal_entity_id": "LE-US"}
SEATS_DE = {"sku": "PLATFORM-ENT", "quantity": "20", "unit_price": "1200.00", "legal_entity_id": "LE-DE"}
USAGE = {"sku": "API-CALLS", "quantity": "1", "unit_price": "0", "legal_entity_id": "LE-US",
         "usage": {"metric": "api_calls", "overage_unit_price": "0.0004"}}
FIRST = {"version": 1, "currency": "USD", "billing_frequency": "annual", "term_start": "2024-06-01",
         "term_end": "2025-05-31", "items": [SEATS_US, SEATS_DE, USAGE],
         "deal": {"items": [SEATS_US, SEATS_DE, USAGE], "term_months": 12}}
# an amendment: the contract's lines merged, the deal's own lines are the change (50 seats, a module), 9 months
AMENDED = {**FIRST, "version": 2, "billing_frequency": "quarterly",
           "items": [{**SEATS_US, "quantity": "150"}, SEATS_DE, USAGE,
                     {"sku": "ANALYTICS", "quantity": "20", "unit_price": "240.00", "legal_entity_id": "LE-DE"}],
           "deal": {"items": [{**SEATS_US, "quantity": "50"},
                              {"sku": "ANALYTICS", "quantity": "20", "unit_price": "240.00"}], "term_months": 9}}


def deal(amount: str | None, currency: str | None = "USD") -> dict[str, str | None]:
    return {"deal_id": "006A", "amount": amount, "currency": currency}


@pytest.mark.parametrize(("start", "end", "months"), [("2024-06-01", "2025-05-31", 12), ("2024-09-01", "2025-05-31", 9),
                                                      ("2024-01-15", "2024-04-14", 3), (None, "2025-05-31", None),
                                                      ("2025-06-01", "2025-05-31", None)])
def test_a_term_is_its_whole_months(start, end, months):
    assert term_months(start, end) == months


def test_the_value_is_the_licensed_lines_yearly_prices_over_the_term():
    # 120 seats x 1200 a year for 12 months; the usage line commits nothing
    assert contract_value(FIRST) == Decimal("144000.00")
    # two years of the same lines are worth twice as much
    assert contract_value({**FIRST, "deal": {**FIRST["deal"], "term_months": 24}}) == Decimal("288000.00")


def test_an_amendments_value_is_what_its_own_deal_sold_over_its_term():
    # (50 x 1200 + 20 x 240) x 9 / 12, not the merged contract's value
    assert contract_value(AMENDED) == Decimal("48600.00")


def test_terms_recorded_before_the_deal_was_kept_are_valued_only_for_a_first_version():
    older = {k: v for k, v in FIRST.items() if k != "deal"}
    assert contract_value(older) == Decimal("144000.00")  # term from its dates
    assert contract_value({**older, "version": 2}) == "the lines of version 2 were not recorded"


def test_a_deal_whose_amount_the_crm_still_states_matches():
    assert compare_value("C1", FIRST, deal("144000.0")) == ([], None)
    assert compare_value("C1", AMENDED, deal("48600")) == ([], None)


def test_an_amount_changed_in_the_crm_is_one_mismatch_naming_the_deal_and_both_values():
    found, reason = compare_value("C1", FIRST, deal("150000"))
    assert reason is None
    assert [m.model_dump() for m in found] == [{
        "contract_id": "C1", "entity": "", "sku": "006A", "field": "contract_value", "contract": "144000 USD",
        "billing": None, "erp": None, "crm": "150000 USD"}]
    assert found[0].describe() == "C1 deal 006A contract_value: contract 144000 USD, CRM 150000 USD"
    assert found[0].key == "C1::006A:contract_value"  # the same drift found tomorrow keeps its one exception


def test_a_cent_off_is_a_mismatch_and_another_currency_is_one_too():
    assert len(compare_value("C1", FIRST, deal("143999.99"))[0]) == 1
    (found,), _ = compare_value("C1", FIRST, deal("144000", "EUR"))
    assert (found.contract, found.crm) == ("144000 USD", "144000 EUR")


@pytest.mark.parametrize(("terms", "crm_deal", "reason"), [
    (FIRST, None, "the CRM holds no deal of version 1"),
    (FIRST, deal(None), "deal 006A has no amount"),
    (FIRST, deal(""), "deal 006A has no amount"),
    ({**FIRST, "deal": {"items": [{**SEATS_US, "unit_price": None}], "term_months": 12}}, deal("1"),
     "a line of the deal has no unit price"),
])
def test_what_cannot_be_compared_is_reported_not_raised_as_a_mismatch(terms, crm_deal, reason):
    assert compare_value("C1", terms, crm_deal) == ([], reason)


def test_the_books_mismatches_keep_their_detail_without_a_crm_key():
    dumped = Mismatch(contract_id="C1", entity="LE-US", sku="S", field="quantity", contract="1", billing="1",
                      erp="2").model_dump()
    assert dumped == {"contract_id": "C1", "entity": "LE-US", "sku": "S", "field": "quantity", "contract": "1",
                      "billing": "1", "erp": "2"}
