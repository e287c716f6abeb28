"""The vendor matrix end to end: activation, amendment with reconciliation, renewal and cancellation of a
two-entity deal in two currencies (USD and EUR) on every row, one local stack per row, each checked by what
the vendors hold at the end: one record per business object, nothing left over."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix import (
    ROWS,
    amend,
    billed,
    booked,
    cancel,
    closed,
    crm_account,
    crm_accounts,
    crm_status,
    currency,
    ends_at_period_end,
    erp_customers,
    intervals,
    metered,
    renew,
    sales_orders,
    schedule,
    subscriptions,
)
from matrix_rows import SEATS_UP, activated, row_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]

QUARTERLY = {"stripe": "quarterly", "chargebee": "Every-3-months"}


row, stack_parameters = row_fixtures(ROWS)


def test_activation_books_each_entity_once_in_its_currency(hub, row):
    deal = activated(hub, row, "Matrix")
    subs, orders = subscriptions(hub, row, deal), sales_orders(hub, row, deal)
    assert sorted(subs) == ["LE-DE", "LE-US"] and sorted(orders) == ["LE-DE", "LE-US"]
    assert billed(hub, row, subs["LE-DE"]) == {"PLATFORM-ENT": 20}
    # the usage line is metered in billing (overage in arrears, no quantity) and booked in the ERP
    assert set(metered(row, subs["LE-US"])) == {"API-CALLS"} and metered(row, subs["LE-DE"]) == {}
    assert "API-CALLS" in booked(hub, row, orders["LE-US"]) and "API-CALLS" not in booked(hub, row, orders["LE-DE"])
    assert billed(hub, row, subs["LE-US"])["PLATFORM-ENT"] == 100
    assert booked(hub, row, orders["LE-US"])["PLATFORM-ENT"] == 100
    assert booked(hub, row, orders["LE-DE"]) == {"PLATFORM-ENT": 20}
    assert {e: currency(row, s) for e, s in subs.items()} == {"LE-US": "USD", "LE-DE": "EUR"}
    assert {e: currency(row, o) for e, o in orders.items()} == {"LE-US": "USD", "LE-DE": "EUR"}
    assert len(erp_customers(hub, row, deal)) == 2 and crm_accounts(hub, deal) == 1
    assert crm_status(row, crm_account(hub, deal)) == "active"


def test_an_amendment_is_applied_everywhere_and_reconciles(hub, row):
    deal = activated(hub, row, "MatrixAmend")
    execution = amend(hub, deal, 2, SEATS_UP, Billing_Frequency__c="Quarterly")
    entered = hub.states_entered(execution["executionArn"])
    assert execution["status"] == "SUCCEEDED", entered
    assert "Reconcile" in entered and "RaiseReconciliationException" not in entered
    subs, orders = subscriptions(hub, row, deal), sales_orders(hub, row, deal)
    assert len(subs) == 2 and len(orders) == 2
    assert billed(hub, row, subs["LE-US"])["PLATFORM-ENT"] == 150
    assert billed(hub, row, subs["LE-DE"]) == {"PLATFORM-ENT": 20, "ANALYTICS": 20}
    assert booked(hub, row, orders["LE-US"])["PLATFORM-ENT"] == 150
    assert booked(hub, row, orders["LE-DE"]) == {"PLATFORM-ENT": 20, "ANALYTICS": 20}
    # and the new billing frequency moved every item, in billing and in the ERP
    assert [intervals(row, s) for s in subs.values()] == [{QUARTERLY[row.billing]}] * 2
    assert all(schedule(row, o).startswith("Quarterly") for o in orders.values()), orders


def test_a_renewal_books_renewal_orders_and_keeps_one_subscription_per_entity(hub, row):
    deal = activated(hub, row, "MatrixRenew")
    renewal_id, execution = renew(hub, deal)
    assert "FetchDeal" in hub.states_entered(execution["executionArn"]) or row.crm != "hubspot"
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    assert sorted(sales_orders(hub, row, deal, renewal_id)) == ["LE-DE", "LE-US"]
    assert len(sales_orders(hub, row, deal)) == 2 and len(subscriptions(hub, row, deal)) == 2
    assert crm_status(row, crm_account(hub, deal)) == "renewed"


def test_a_cancellation_at_period_end_closes_billing_and_erp(hub, row):
    deal = activated(hub, row, "MatrixCancel")
    execution = cancel(hub, deal, "at_period_end")
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs, orders = subscriptions(hub, row, deal), sales_orders(hub, row, deal)
    assert len(subs) == 2 and all(ends_at_period_end(row, s) for s in subs.values())
    assert len(orders) == 2 and all(closed(row, o) for o in orders.values())
    assert crm_status(row, crm_account(hub, deal)) == "cancelled"

