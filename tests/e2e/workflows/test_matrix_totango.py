"""Vendor matrix row: HubSpot + Stripe + Totango + NetSuite (SuccessVendor=totango), the matrix's two-entity deal
in USD and EUR: activation, amendment with reconciliation, renewal and a cancellation Totango asks for. Billing
and the ERP are read back as in test_matrix.py; Totango by its accounts, attributes and tasks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deals import post
from matrix import (
    MatrixDeal,
    Row,
    activate,
    booked,
    closed,
    crm_account,
    crm_status,
    ends_at_period_end,
    erp_customers,
    metered,
    sales_orders,
    subscriptions,
)
from test_matrix import (
    test_a_renewal_books_renewal_orders_and_keeps_one_subscription_per_entity,  # noqa: F401 - run on this row
    test_an_amendment_is_applied_everywhere_and_reconciles,  # noqa: F401 - run on this row
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROW = Row("hubspot", "stripe", "totango", "netsuite")


@pytest.fixture(scope="module")
def row():
    return ROW


@pytest.fixture(scope="module")
def stack_parameters():
    return ROW.parameters()


def totango_account(hub: Any, deal: MatrixDeal) -> dict[str, Any]:
    [account] = [a for a in hub.records("totango", "account") if a["account_id"] == deal.account_id]
    return account


def test_activation_onboards_the_account_in_totango_and_books_each_entity_once(hub):
    # Given a closed-won HubSpot deal of two entities (USD, EUR) with metered API calls in the US entity
    deal = MatrixDeal("TotangoRow", ROW.crm)
    # When it is activated
    execution = activate(hub, deal)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    # Then Totango has the account once, paying, onboarding, with its plan, health and usage allowance
    account = totango_account(hub, deal)
    attributes = account["attributes"]
    assert account["name"] == deal.name and attributes["Status"] == "Paying"
    assert attributes["Crm Account Id"] == deal.account_id and attributes["Renewal Risk"] == "low"
    assert attributes["Lifecycle Stage"] == "Onboarding" and attributes["Onboarding Plan"]
    assert any(k.startswith("Adoption ") for k in attributes), attributes
    tasks = [t for t in hub.records("totango", "task") if t["account_id"] == deal.account_id]
    assert [t["title"] for t in tasks] == [f"Onboarding: {attributes['Onboarding Plan']}"]
    # and billing and the ERP hold one subscription and one order per entity, the usage line metered and booked
    subs, orders = subscriptions(hub, ROW, deal), sales_orders(hub, ROW, deal)
    assert sorted(subs) == sorted(orders) == ["LE-DE", "LE-US"]
    assert set(metered(ROW, subs["LE-US"])) == {"API-CALLS"} and "API-CALLS" in booked(hub, ROW, orders["LE-US"])
    assert len(erp_customers(hub, ROW, deal)) == 2 and crm_status(ROW, crm_account(hub, deal)) == "active"
    assert hub.stack.sandbox.violations == []


def test_a_cancellation_totango_asks_for_closes_billing_erp_and_offboards(hub):
    # Given an activated deal
    deal = MatrixDeal("TotangoCancel", ROW.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    # When Totango's SuccessPlay webhook asks to cancel the contract at period end
    body = {"eventId": f"{deal.n}-cancel", "eventType": "cancellation_requested", "occurredAt": "2024-09-02T06:00:00Z",
            "account": {"id": deal.account_id, "name": deal.name, "crmAccountId": deal.account_id,
                        "crmSystem": "hubspot"},
            "contractId": deal.opportunity_id, "effective": "at_period_end", "reason": "Consolidating vendors"}
    status, text = post(hub.gateway, "totango", json.dumps(body).encode())
    assert status == 202, text
    execution = hub.latest("cancellation", deal.account_id, timeout=45)
    # Then billing ends at period end, the ERP orders are closed, the CRM says cancelled and Totango offboards
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs, orders = subscriptions(hub, ROW, deal), sales_orders(hub, ROW, deal)
    assert len(subs) == 2 and all(ends_at_period_end(ROW, s) for s in subs.values())
    assert len(orders) == 2 and all(closed(ROW, o) for o in orders.values())
    assert crm_status(ROW, crm_account(hub, deal)) == "cancelled"
    attributes = totango_account(hub, deal)["attributes"]
    assert attributes["Lifecycle Stage"] == "Offboarding"
    assert attributes["Offboarding Reason"] == "Consolidating vendors"
    titles = [t["title"] for t in hub.records("totango", "task") if t["account_id"] == deal.account_id]
    assert titles.count("Offboarding") == 1


def test_a_poor_health_in_totango_is_a_high_renewal_risk_on_the_crm_account(hub):
    # Given an activated deal
    deal = MatrixDeal("TotangoRisk", ROW.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    # When Totango's health turns Poor
    body = {"eventId": f"{deal.n}-health", "eventType": "health_changed", "occurredAt": "2024-09-02T06:00:00Z",
            "account": {"id": deal.account_id, "name": deal.name, "crmAccountId": deal.account_id,
                        "crmSystem": "hubspot"},
            "health": {"current": "Poor", "previous": "Good", "reason": "Less than 10% license utilization"},
            "score": 30}
    status, text = post(hub.gateway, "totango", json.dumps(body).encode())
    assert status == 202 and json.loads(text)["status"] == "accepted", text
    # Then the high risk reaches the CRM account (one of the signal's three choreographed consumers)
    def risky() -> dict[str, Any] | None:
        account = crm_account(hub, deal)
        return account if account.get("erphub_renewal_risk") == "high" else None

    assert hub.stack.wait_until(risky, timeout=30)
