"""A reconciliation run over the identity table in moto: bounded per invocation, resumable from its cursor after an
invocation dies mid-page, one result per contract and one exception per mismatch however often it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from erphub.reconciliation import runs
from erphub.reconciliation.store import ReconciliationStore
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore

CONTRACTS = [f"C{n:02}" for n in range(25)]
DRIFTED = "C07"


@pytest.fixture
def contracts(tables, monkeypatch, hub_settings):
    from erphub import business_config

    committed = business_config.parse((Path(__file__).resolve().parents[3] / "config" / "business.json").read_text())
    monkeypatch.setattr(business_config, "current", lambda: committed)
    hub_settings(BILLING_VENDOR="stripe", ERP_VENDOR="netsuite")
    monkeypatch.setattr(runs, "PAGE", 10)
    identity = IdentityStore()
    for contract_id in CONTRACTS:
        identity.put_terms(contract_id, f"cust-{contract_id}", {"billing_frequency": "annual", "items": [
            {"sku": "SEATS", "quantity": 10, "legal_entity_id": "LE-US"}]})
        identity.link_contract(contract_id, "stripe", "subscription", "LE-US", f"sub-{contract_id}")
        identity.link_contract(contract_id, "netsuite", "sales_order", "LE-US", f"so-{contract_id}")
    reads: list[str] = []

    def invoke(system: str, action: str, records: dict[str, str], usage: list[str] | None = None) -> dict[str, Any]:
        if action == "billing.read_invoices":  # no invoices issued yet: nothing for the ERP ledger to hold
            return {"entities": {"LE-US": []}}
        (record,) = records.values()
        reads.append(record)
        if system == "billing":
            return {"entities": {"LE-US": {"status": "active", "billing_frequency": "annual",
                                           "items": {"SEATS": "10"}, "metered": []}}}
        return {"entities": {"LE-US": {"items": {"SEATS": "9" if record == f"so-{DRIFTED}" else "10"},
                                       "metered": []}}}

    monkeypatch.setattr(runs.adapters, "invoke", invoke)
    return reads


def reconciliation_exceptions() -> list[dict[str, Any]]:
    return [e for e in WorkflowStore().exceptions(only_open=False) if e["kind"] == runs.KIND]


def test_a_run_is_bounded_per_invocation_and_finishes_over_several(contracts):
    reconciliation_id = runs.start("test", "r1")
    first = runs.advance(reconciliation_id, budget=5)
    assert first["status"] == "running" and 5 <= first["checked"] < len(CONTRACTS)
    invocations = 1
    while runs.advance(reconciliation_id, budget=5)["status"] != "completed":
        invocations += 1
    run = ReconciliationStore().run(reconciliation_id)
    assert invocations >= 3 and run["checked"] == len(CONTRACTS)
    assert (run["matched"], run["mismatched"], run["exceptions_opened"]) == (24, 1, 1)
    results = ReconciliationStore().results(reconciliation_id)
    assert sorted(r["contract_id"] for r in results) == CONTRACTS
    (drifted,) = [r for r in results if r["outcome"] == "mismatched"]
    assert drifted["contract_id"] == DRIFTED and drifted["mismatches"][0]["erp"] == "9"


def test_an_invocation_that_dies_mid_page_is_resumed_without_double_counting(contracts, monkeypatch):
    reconciliation_id = runs.start("test", "r2")
    real_check, calls = runs.check, []

    def dying(reconciliation_id: str, contract_id: str) -> dict[str, Any]:
        calls.append(contract_id)
        if len(calls) == 12:
            raise TimeoutError("Task timed out after 900.00 seconds")
        return real_check(reconciliation_id, contract_id)

    monkeypatch.setattr(runs, "check", dying)
    with pytest.raises(TimeoutError):
        runs.advance(reconciliation_id, budget=100)
    monkeypatch.setattr(runs, "check", real_check)
    run = runs.advance(reconciliation_id, budget=100)
    assert run["status"] == "completed" and run["checked"] == len(CONTRACTS) and run["mismatched"] == 1
    assert len(reconciliation_exceptions()) == 1


def test_the_same_unresolved_diff_opens_one_exception_and_drift_found_after_resolution_reopens_it(contracts):
    for day in ("d1", "d2"):
        runs.advance(runs.start("schedule", day), budget=100)
    (exception,) = reconciliation_exceptions()
    assert exception["status"] == "open" and exception["detail"]["mismatch"]["contract_id"] == DRIFTED
    assert ReconciliationStore().run("d2")["exceptions_opened"] == 0
    WorkflowStore().close_exception(exception["exception_id"], "fixed in NetSuite")
    runs.advance(runs.start("schedule", "d3"), budget=100)
    assert [(e["exception_id"], e["status"]) for e in reconciliation_exceptions()] == [
        (exception["exception_id"], "open")]


def test_starting_the_same_days_run_twice_keeps_one_run(contracts):
    assert runs.start("schedule", "daily-2026-12-01") == runs.start("schedule", "daily-2026-12-01")
    assert ReconciliationStore().run("daily-2026-12-01")["status"] == "running"
