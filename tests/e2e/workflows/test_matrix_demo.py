"""`erphub up --crm hubspot --billing chargebee --erp dynamics` then `erphub demo`: the scenarios of
local/scenarios/ run on that stack with HubSpot's webhooks (test_scenarios.py runs them on the default
Salesforce + Stripe + NetSuite stack), on a stack of their own since their checks count what the stack holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix import (
    ROWS,
    MatrixDeal,
    billed,
    closed,
    crm_account,
    crm_status,
    ends_at_period_end,
    erp_customers,
    sales_orders,
    subscriptions,
)
from matrix_rows import run_demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def row():
    return next(r for r in ROWS if r.crm == "hubspot")


@pytest.fixture(scope="module")
def stack_parameters(row):
    return row.parameters()


def test_the_demo_scenarios_run_with_hubspot_webhooks_and_leave_the_books_expected(hub, row):
    # Given the stack `erphub up --crm hubspot --billing chargebee --erp dynamics` starts, When the demo runs
    lines = run_demo(hub)
    # Then HubSpot's webhooks drove it, and the books hold one record per business object, all closed at the end
    assert any("hubspot events/hubspot/scenario_a_deal_won.json" in line for line in lines)
    deal = MatrixDeal("Acme Robotics", row.crm)
    deal.account_id, deal.opportunity_id = "9812345601", "18213454561"
    deal.entities = [{"entity_id": "LE-US", "subsidiary": "US01"}, {"entity_id": "LE-DE", "subsidiary": "DE01"}]
    subs = subscriptions(hub, row, deal)
    assert sorted(subs) == ["LE-DE", "LE-US"] and all(ends_at_period_end(row, s) for s in subs.values())
    assert billed(hub, row, subs["LE-US"])["PLATFORM-ENT"] == 150  # the stale version-1 amendment was not applied
    assert billed(hub, row, subs["LE-DE"]) == {"PLATFORM-ENT": 20, "ANALYTICS": 20}
    orders = {**sales_orders(hub, row, deal), **{f"renewal {e}": o for e, o in sales_orders(
        hub, row, deal, "18213454566").items()}}
    assert len(orders) == 4 and all(closed(row, o) for o in orders.values())
    assert len(erp_customers(hub, row, deal)) == 2
    tasks = [t for t in hub.records("hubspot", "tasks") if t["associations"][0]["to"]["id"] == deal.account_id]
    assert len(tasks) == 1 and crm_status(row, crm_account(hub, deal)) == "cancelled"
