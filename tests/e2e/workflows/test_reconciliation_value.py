"""Contract value vs opportunity, on the Salesforce + NetSuite and the HubSpot + Dynamics 365 rows: the deal's amount
changed in the CRM behind the hub's back (the sandbox's record rewritten) is found by the daily reconciliation and
opens one exception with the diff; a deal nobody touched, and an amended one (its own opportunity stating what
the amendment sold), match with their value compared."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from deals import annual_deal_items
from matrix import ROWS, MatrixDeal, activate, amend, deal_amount
from matrix_rows import SEATS_UP, row_fixtures
from test_reconciliation import reconciliation_exceptions, run_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

row, stack_parameters = row_fixtures(ROWS)


def closed_deal(hub: Any, deal: MatrixDeal, version: int = 1, items: list[dict] | None = None) -> str:
    """Salesforce's Opportunity as the org holds it (the outbound message is a copy of it; the sandbox starts with
    none); HubSpot's deal is already in the sandbox (activation reads it from there). Returns the deal's id."""
    if deal.crm == "hubspot":
        return deal.opportunity_id if version == 1 else f"{deal.opportunity_id}{version}"
    fields = deal.fields(Amount=deal_amount(items or annual_deal_items()), Contract_Version__c=f"{version}.0")
    if version > 1:
        fields.update(Id=f"{deal.opportunity_id}A{version}", Contract_Key__c=deal.opportunity_id, Type="Amendment")
    hub.sandbox.seed("salesforce", "Opportunity", fields)
    return str(fields["Id"])


def change_amount(hub: Any, deal: MatrixDeal, deal_id: str, amount: str) -> None:
    """A sales rep edits the closed deal's amount in the CRM."""
    if deal.crm == "salesforce":
        (record,) = [r for r in hub.records("salesforce", "Opportunity") if r["Id"] == deal_id]
        hub.sandbox.seed("salesforce", "Opportunity", {**record, "Amount": amount})
        return
    (record,) = [r for r in hub.records("hubspot", "deals") if r["id"] == deal_id]
    hub.sandbox.seed("hubspot", "deals", {**record["properties"], "id": deal_id, "amount": amount})


def results(hub: Any, label: str) -> dict[str, dict[str, Any]]:
    from erphub.reconciliation.store import ReconciliationStore

    store = ReconciliationStore(hub.stack.physical("WorkflowTable"), hub.stack.client("dynamodb"))
    store.create(f"test-value-{label}", "test")
    report = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": f"test-value-{label}"})
    assert report["status"] == "completed", report
    return {r["contract_id"]: r for r in store.results(report["reconciliation_id"])}


def test_an_amount_changed_in_the_crm_is_found_by_the_daily_schedule_once(hub, row):
    # Given an activated deal whose amount a rep then changes in the CRM (144000 -> 150000)
    deal = MatrixDeal("ReconValue", row.crm)
    deal_id = closed_deal(hub, deal)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    change_amount(hub, deal, deal_id, "150000.00")
    # When the daily schedule fires
    hub.stack.fire_schedule("ReconcilerFunction.Events.Daily")
    today = f"daily-{datetime.now(UTC).date().isoformat()}"
    run = hub.stack.wait_until(lambda: run_of(hub, today), timeout=60, interval=0.2)
    # Then one exception names the contract, the deal, and the value the hub applied against the CRM's
    (exception,) = reconciliation_exceptions(hub, deal.opportunity_id)
    assert exception["detail"]["mismatch"] == {
        "contract_id": deal.opportunity_id, "entity": "", "sku": deal_id, "field": "contract_value",
        "contract": "144000 USD", "billing": None, "erp": None, "crm": "150000 USD"}
    assert run["exceptions_opened"] >= 1
    # And the next run finds the same unresolved diff and opens nothing new
    again = results(hub, "again")[deal.opportunity_id]
    assert again["outcome"] == "mismatched" and again["opened"] == []
    assert len(reconciliation_exceptions(hub, deal.opportunity_id)) == 1


def test_a_deal_nobody_touched_matches_with_its_value_compared(hub, row):
    deal = MatrixDeal("ReconValueClean", row.crm)
    closed_deal(hub, deal)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    mine = results(hub, "clean")[deal.opportunity_id]
    assert (mine["outcome"], mine["mismatches"], mine.get("not_compared")) == ("matched", [], None)
    assert reconciliation_exceptions(hub, deal.opportunity_id) == []


def test_a_deal_the_crm_holds_no_amount_for_is_reported_not_compared(hub, row):
    deal = MatrixDeal("ReconValueEmpty", row.crm)
    deal_id = closed_deal(hub, deal)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    change_amount(hub, deal, deal_id, "")
    mine = results(hub, "empty")[deal.opportunity_id]
    assert (mine["outcome"], mine["not_compared"]) == (
        "matched", [{"field": "contract_value", "reason": f"deal {deal_id} has no amount"}])
    assert reconciliation_exceptions(hub, deal.opportunity_id) == []


def test_an_amendment_is_compared_on_its_own_deal(hub, row):
    # Given a deal amended mid-term; the amendment's deal states what it sold (50 seats, a module: 64800 a year)
    deal = MatrixDeal("ReconValueAmend", row.crm)
    closed_deal(hub, deal)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    amendment = closed_deal(hub, deal, 2, SEATS_UP)
    assert amend(hub, deal, 2, SEATS_UP, Amount=deal_amount(SEATS_UP))["status"] == "SUCCEEDED"
    # When reconciliation runs, then the contract matches, its amendment's deal compared
    mine = results(hub, "amended")[deal.opportunity_id]
    assert (mine["outcome"], mine["mismatches"], mine.get("not_compared")) == ("matched", [], None)
    # And when the amendment's amount is changed in the CRM, the drift names the amendment's deal
    change_amount(hub, deal, amendment, "70000.00")
    drifted = results(hub, "amended-drift")[deal.opportunity_id]
    assert [(m["sku"], m["contract"], m["crm"]) for m in drifted["mismatches"]] == [
        (amendment, "64800 USD", "70000 USD")]
