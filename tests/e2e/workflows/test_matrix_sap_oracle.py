"""Vendor matrix rows with the systems of issue 15: HubSpot + Stripe + Totango + SAP S/4HANA Cloud and Salesforce +
Chargebee + Gainsight + Oracle Fusion Cloud ERP, one local stack per row. Activation, amendment with reconciliation,
renewal, cancellation (asked for by the row's customer success) and the posting of an invoice and its payment, each
checked by what the ERP, billing and customer success hold at the end: one record per business object, nothing
orphaned."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from deals import post
from erp_rows import (
    ROWS,
    all_customers,
    booked,
    cancel_from_success,
    closed,
    customer_number,
    erp_customers,
    sales_orders,
    sold_to,
    success_account,
)
from matrix import (
    MatrixDeal,
    Row,
    activate,
    amend,
    billed,
    crm_account,
    crm_accounts,
    crm_status,
    currency,
    ends_at_period_end,
    metered,
    renew,
    subscriptions,
)
from matrix_rows import SEATS_UP, activated, row_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EVENTS = Path(__file__).resolve().parents[3] / "events"


row, stack_parameters = row_fixtures(ROWS)


# --- the workflows --------------------------------------------------------------------------------------------
def test_activation_books_one_customer_and_one_order_per_entity_in_its_currency(hub, row):
    deal = activated(hub, row, "ErpRow")
    customers, orders, subs = erp_customers(hub, row, deal), sales_orders(hub, row, deal), subscriptions(hub, row, deal)
    assert sorted(customers) == sorted(orders) == sorted(subs) == ["LE-DE", "LE-US"]
    assert all_customers(hub, row, deal) == 2 and crm_accounts(hub, deal) == 1
    assert {e: sold_to(row, o) for e, o in orders.items()} == {e: customer_number(row, c) for e, c in customers.items()}
    assert booked(row, orders["LE-US"]) == {"PLATFORM-ENT": 100, "API-CALLS": 0}  # overage: nothing up front
    assert booked(row, orders["LE-DE"]) == {"PLATFORM-ENT": 20}
    assert set(metered(row, subs["LE-US"])) == {"API-CALLS"} and billed(hub, row, subs["LE-DE"]) == {"PLATFORM-ENT": 20}
    field = "TransactionCurrency" if row.erp == "sap" else "TransactionalCurrencyCode"
    assert {e: o[field] for e, o in orders.items()} == {e: currency(row, s) for e, s in subs.items()} == {
        "LE-US": "USD", "LE-DE": "EUR"}
    assert crm_status(row, crm_account(hub, deal)) == "active"
    account = success_account(hub, row, deal)  # one account in customer success, onboarding
    if row.success == "totango":
        assert account["attributes"]["Status"] == "Paying"
        assert account["attributes"]["Lifecycle Stage"] == "Onboarding"


def test_an_order_created_but_answered_503_is_not_booked_twice_when_the_step_retries(hub, row):
    # Given the ERP books the first sales order and then answers 503 + Retry-After (the reply is lost)
    operation = "A_SalesOrder.create" if row.erp == "sap" else "salesOrdersForOrderHub.create"
    hub.sandbox.faults.inject(row.erp, operation, kind="503", times=1, after_commit=True)
    # When the activation's ERP step fails RateLimited and the state machine retries it
    deal = MatrixDeal("ErpRowRetry", row.crm)
    execution = activate(hub, deal)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    events = hub.sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    # (the ERP step is queued: its consumer answers the task token with the typed error, a TaskFailed event)
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["RateLimited"] and "503" in failed[0]["cause"], failed
    # Then the lookup before create finds the order: one per entity, none orphaned
    assert sorted(sales_orders(hub, row, deal)) == ["LE-DE", "LE-US"]


def test_an_amendment_changes_the_erp_order_in_place_and_reconciles(hub, row):
    deal = activated(hub, row, "ErpRowAmend")
    before = sales_orders(hub, row, deal)
    execution = amend(hub, deal, 2, SEATS_UP)
    entered = hub.states_entered(execution["executionArn"])
    assert execution["status"] == "SUCCEEDED", entered
    assert "Reconcile" in entered and "RaiseReconciliationException" not in entered
    orders = sales_orders(hub, row, deal)
    key = "SalesOrder" if row.erp == "sap" else "HeaderId"
    assert {e: o[key] for e, o in orders.items()} == {e: o[key] for e, o in before.items()}  # the same orders
    assert booked(row, orders["LE-US"]) == {"PLATFORM-ENT": 150, "API-CALLS": 0}
    assert booked(row, orders["LE-DE"]) == {"PLATFORM-ENT": 20, "ANALYTICS": 20}
    subs = subscriptions(hub, row, deal)
    assert billed(hub, row, subs["LE-US"])["PLATFORM-ENT"] == 150 and len(subs) == 2


def test_a_renewal_books_renewal_orders_beside_the_first(hub, row):
    deal = activated(hub, row, "ErpRowRenew")
    renewal_id, execution = renew(hub, deal)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    assert sorted(sales_orders(hub, row, deal, renewal_id)) == ["LE-DE", "LE-US"]
    assert len(sales_orders(hub, row, deal)) == 2 and len(subscriptions(hub, row, deal)) == 2
    assert all_customers(hub, row, deal) == 2 and crm_status(row, crm_account(hub, deal)) == "renewed"


def test_a_cancellation_at_period_end_closes_every_erp_order(hub, row):
    deal = activated(hub, row, "ErpRowCancel")
    execution = cancel_from_success(hub, row, deal, "at_period_end")
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs, orders = subscriptions(hub, row, deal), sales_orders(hub, row, deal)
    assert len(subs) == 2 and all(ends_at_period_end(row, s) for s in subs.values())
    assert len(orders) == 2 and all(closed(row, o) for o in orders.values()), orders
    assert crm_status(row, crm_account(hub, deal)) == "cancelled"
    account = success_account(hub, row, deal)
    if row.success == "totango":
        assert account["attributes"]["Lifecycle Stage"] == "Offboarding"
        titles = [t["title"] for t in hub.records("totango", "task") if t["account_id"] == deal.account_id]
        assert titles.count("Offboarding") == 1


def test_a_cancellation_now_credits_each_entity_once_and_closes_its_orders(hub, row):
    start = date.today() - timedelta(days=90)  # a term still running: part of it is unused
    deal = MatrixDeal("ErpRowCancelNow", row.crm)
    execution = activate(hub, deal, Term_Start__c=start.isoformat(),
                         Term_End__c=(start + timedelta(days=364)).isoformat())
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    execution = cancel_from_success(hub, row, deal, "immediately")
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    numbers = {customer_number(row, c) for c in erp_customers(hub, row, deal).values()}
    if row.erp == "sap":
        memos = [m for m in hub.records("sap", "A_CreditMemoRequest") if m["SoldToParty"] in numbers]
        prices = [float(p["ConditionRateValue"]) for m in memos for i in m["to_Item"] for p in i["to_PricingElement"]]
    else:
        memos = [m for m in hub.records("oracle", "receivablesCreditMemos") if m["BillToCustomerNumber"] in numbers]
        prices = [line["UnitSellingPrice"] for m in memos for line in m["receivablesCreditMemoLines"]]
    assert len(memos) == 2 and prices and all(0 < p < 1200 for p in prices), memos  # the unused share only
    assert all(closed(row, o) for o in sales_orders(hub, row, deal).values())


# --- ERP posting: the billing system's invoice and its payment, each once ------------------------------------
def billing_events(row: Row, customer: str, invoice_id: str, payment_id: str) -> list[tuple[str, bytes]]:
    """The billing system's own samples (invoice, payment, invoice paid) with this customer's ids."""
    if row.billing == "stripe":
        names, replace = ("invoice.finalized", "payment_intent.succeeded", "invoice.paid"), {
            "cus_Q8mZr4TnVb2XyA": customer, "in_1PLx3aKZ8gJ0aBcDinv0001": invoice_id,
            "pi_3PQ2a9KZ8gJ0aBcD0inv001": payment_id}
    else:
        names, replace = ("invoice_generated", "payment_succeeded"), {
            "16CRibSQ4Hw7Z2nN": customer, "EU-2024-0042": invoice_id, "txn_AzZlGJTsCd2kX5Ch": payment_id}
    bodies = []
    for name in names:
        text = (EVENTS / row.billing / f"{name}.json").read_text()
        for old, new in replace.items():
            text = text.replace(old, new)
        body = json.loads(text)
        body["id"] = f"ev_{uuid.uuid4().hex[:20]}"
        bodies.append((row.billing, json.dumps(body).encode()))
    return bodies


def posted(hub: Any, row: Row) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if row.erp == "sap":
        return hub.records("sap", "A_DebitMemoRequest"), hub.records("sap", "YY1_ERPHUBPAYMENT")
    return hub.records("oracle", "receivablesInvoices"), hub.records("oracle", "standardReceipts")


def test_an_invoice_and_its_payment_post_once_to_the_customer_of_their_entity(hub, row):
    deal = activated(hub, row, "ErpRowPosting")
    entity = "LE-US" if row.billing == "stripe" else "LE-DE"  # the samples' currencies: USD, EUR
    subscription = subscriptions(hub, row, deal)[entity]
    customer = subscription["customer"] if row.billing == "stripe" else subscription["customer_id"]
    invoice_id, payment_id = f"in_{uuid.uuid4().hex[:16]}", f"pay_{uuid.uuid4().hex[:16]}"
    invoices_before, payments_before = (len(r) for r in posted(hub, row))
    for source, body in billing_events(row, customer, invoice_id, payment_id):
        status, text = post(hub.gateway, source, body)
        assert status == 202, text
    hub.stack.wait_until(lambda: len(posted(hub, row)[1]) > payments_before or None, timeout=40)
    invoices, payments = posted(hub, row)
    assert (len(invoices) - invoices_before, len(payments) - payments_before) == (1, 1)  # once, though sent twice
    [ledger] = hub.store().created(f"posting:{row.billing}:{invoice_id}", "invoice")
    number = customer_number(row, erp_customers(hub, row, deal)[entity])
    if row.erp == "sap":
        [invoice] = [i for i in invoices if i["PurchaseOrderByCustomer"] == ledger["record_id"]]
        [payment] = [p for p in payments if p["InvoiceReference"] == ledger["record_id"]]
        assert (invoice["SoldToParty"], payment["Customer"], invoice["SalesOrganization"]) == (number, number, "US01")
    else:
        [invoice] = [i for i in invoices if i["TransactionNumber"] == ledger["record_id"]]
        [payment] = [p for p in payments if p["remittanceReferences"][0]["ReferenceNumber"] == ledger["record_id"]]
        assert (invoice["BillToCustomerNumber"], payment["CustomerAccountNumber"]) == (number, number)
        assert (invoice["BusinessUnit"], invoice["InvoiceCurrencyCode"]) == ("DE01", "EUR")
