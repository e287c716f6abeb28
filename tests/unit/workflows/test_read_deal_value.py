"""crm.read_deal_value picks the CRM's deal of the version the hub applied: an amendment's own deal, never a lost
one, and reports several of one version as ambiguous instead of guessing; runs.check turns it into a mismatch."""

from __future__ import annotations

from typing import Any

import pytest

from erphub.errors import RateLimited
from erphub.reconciliation import runs
from erphub.workflows.actions import reconcile_reads
from erphub.workflows.run import Run

DEALS = [{"deal_id": "006A", "stage": "Closed Won", "amount": 144000.0, "currency": "USD", "version": 1.0},
         {"deal_id": "006B", "stage": "Closed Won", "amount": "64800", "currency": "USD", "version": "2"},
         {"deal_id": "006C", "stage": "Closed Lost", "amount": "1", "currency": "USD", "version": "3"}]


class Crm:
    system = "salesforce"

    def __init__(self, deals: list[dict[str, Any]]) -> None:
        self.deals = deals

    def deals_of_contract(self, contract_key: str) -> list[dict[str, Any]]:
        return self.deals if contract_key == "006A" else []


def read(monkeypatch, deals: list[dict[str, Any]], version: int, contract_id: str = "006A") -> dict[str, Any]:
    monkeypatch.setattr(reconcile_reads, "connector", lambda system: Crm(deals))
    return reconcile_reads.read_deal_value(Run.model_validate(
        {"action": "crm.read_deal_value", "contract_id": contract_id, "version": version}))


@pytest.mark.parametrize(("version", "expected"), [
    (1, {"deal_id": "006A", "amount": "144000.0", "currency": "USD"}),
    (2, {"deal_id": "006B", "amount": "64800", "currency": "USD"}),
    (3, None),  # lost: never applied
    (4, None),
])
def test_the_deal_of_the_applied_version_is_read(monkeypatch, version, expected):
    assert read(monkeypatch, DEALS, version) == {"deal": expected}


def test_an_empty_amount_is_read_as_none_and_an_unknown_contract_as_no_deal(monkeypatch):
    assert read(monkeypatch, [{**DEALS[0], "amount": ""}], 1)["deal"]["amount"] is None
    assert read(monkeypatch, DEALS, 1, contract_id="other") == {"deal": None}


def test_two_deals_of_one_version_are_ambiguous(monkeypatch):
    assert read(monkeypatch, [DEALS[0], {**DEALS[0], "deal_id": "006Z"}], 1) == {
        "deal": None, "ambiguous": ["006A", "006Z"]}


def test_a_check_reports_the_value_mismatch_or_why_it_was_not_compared(monkeypatch, hub_settings):
    hub_settings(CRM_ADAPTER_FUNCTION="crm-adapter")
    terms = {"version": 1, "currency": "USD", "items": [{"sku": "S", "quantity": "10", "unit_price": "100"}],
             "deal": {"items": [{"sku": "S", "quantity": "10", "unit_price": "100"}], "term_months": 12}}
    answers = iter([{"deal": {"deal_id": "006A", "amount": "1200", "currency": "USD"}},
                    {"deal": None, "ambiguous": ["006A", "006Z"]}, RateLimited("429 from salesforce")])

    def invoke(system: str, action: str, **fields: Any) -> dict[str, Any]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(runs.adapters, "invoke", invoke)
    (found,), not_compared = runs._value_mismatches("006A", terms)
    assert (found.field, found.contract, found.crm, not_compared) == ("contract_value", "1000 USD", "1200 USD", [])
    assert runs._value_mismatches("006A", terms) == ([], [
        {"field": "contract_value", "reason": "several deals of version 1: 006A, 006Z"}])
    # a CRM that cannot be read leaves the value uncompared, and billing's and the ERP's comparisons stand
    assert runs._value_mismatches("006A", terms) == ([], [
        {"field": "contract_value", "reason": "the CRM could not be read: 429 from salesforce"}])
