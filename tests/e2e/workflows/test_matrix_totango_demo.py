"""`erphub up --crm hubspot --billing stripe --success totango --erp netsuite` then `erphub demo`: the scenarios of
local/scenarios/ run on that stack, Totango's webhooks raising the renewal risk and asking for the cancellation."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix import MatrixDeal, Row, closed, crm_account, crm_status, ends_at_period_end, sales_orders, subscriptions
from matrix_rows import run_demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
ROW = Row("hubspot", "stripe", "totango", "netsuite")


@pytest.fixture(scope="module")
def stack_parameters():
    return ROW.parameters()


def test_the_demo_scenarios_run_with_totango_webhooks_and_leave_the_books_expected(hub):
    # Given the stack with Totango as the customer-success system, When the demo runs
    lines = run_demo(hub)
    # Then Totango's webhooks drove the signals, not Gainsight's
    assert any("totango events/totango/scenario_cancellation_all_contracts_hubspot_crm.json" in line
               for line in lines), lines
    assert not any("gainsight events/" in line for line in lines)
    # and the customer ends cancelled everywhere, offboarding in Totango
    deal = MatrixDeal("Acme Robotics", ROW.crm)
    deal.account_id, deal.opportunity_id = "9812345601", "18213454561"
    subs, orders = subscriptions(hub, ROW, deal), sales_orders(hub, ROW, deal)
    assert sorted(subs) == ["LE-DE", "LE-US"] and all(ends_at_period_end(ROW, s) for s in subs.values())
    assert sorted(orders) == ["LE-DE", "LE-US"] and all(closed(ROW, o) for o in orders.values())
    assert crm_status(ROW, crm_account(hub, deal)) == "cancelled"
    assert crm_account(hub, deal)["erphub_renewal_risk"] == "high"  # Totango's Poor health reached the CRM
    [account] = [a for a in hub.records("totango", "account") if a["account_id"] == deal.account_id]
    assert account["attributes"]["Lifecycle Stage"] == "Offboarding"
