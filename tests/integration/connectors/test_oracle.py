"""Oracle Fusion Cloud ERP (REST 11.13.18.05): accounts by Upsert-Mode, Order Management orders revised and
cancelled line by line, receivables invoices, receipts, credit memos, forecasts, typed errors, 429/503."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from erphub.connectors.interfaces import (
    CreditMemo,
    ErpCustomer,
    ErpInvoice,
    ErpPayment,
    Forecast,
    OrderLine,
    SalesOrder,
)
from erphub.connectors.oracle import OracleErp
from erphub.errors import NotFound, Permanent, RateLimited, ValidationFailed

pytestmark = pytest.mark.integration

SEATS = OrderLine(sku="PLATFORM-ENT", quantity=Decimal(3), rate=Decimal("1200.00"))
USAGE = OrderLine(sku="API-CALLS", quantity=Decimal(0), rate=Decimal("0.0004"))
CUSTOMER = ErpCustomer(external_id="001LOCAL123456789:LE-DE", name="Acme GmbH", subsidiary="DE01", currency="EUR")


def order(*lines: OrderLine, customer: str = CUSTOMER.external_id) -> SalesOrder:
    return SalesOrder(customer_external_id=customer, currency="EUR", subsidiary="DE01", contract_id="006C1",
                      lines=list(lines or (SEATS, USAGE)))


def test_a_customer_is_one_account_upserted_by_our_source_reference(sandbox, connect, every_request_meets_its_contract):
    first = connect(OracleErp).upsert_customer(CUSTOMER)
    second = connect(OracleErp).upsert_customer(CUSTOMER.model_copy(update={"name": "Acme GmbH & Co. KG"}))
    [account] = sandbox.records("oracle", "accounts")
    assert (first.created, second.created, first.id, second.id) == (True, False, account["PartyNumber"],
                                                                    account["PartyNumber"])
    assert account["OrganizationName"] == "Acme GmbH & Co. KG"
    sent = every_request_meets_its_contract
    assert all(r.headers["REST-Framework-Version"] == "4" for r in sent)
    assert all(r.headers["Upsert-Mode"] == "true" for r in sent if r.method == "POST")


def test_a_sales_order_is_created_once_revised_by_line_and_closed_by_cancelling_its_lines(sandbox, connect):
    erp = connect(OracleErp)
    erp.upsert_customer(CUSTOMER)
    ref = erp.create_sales_order(order(), idempotency_key="corr-2:erp.sales_order:LE-DE")
    assert connect(OracleErp).create_sales_order(order(), idempotency_key="corr-2:erp.sales_order:LE-DE") == ref
    [stored] = sandbox.records("oracle", "salesOrdersForOrderHub")
    assert (stored["BusinessUnitName"], stored["BuyingPartyNumber"]) == ("DE01", erp._party(CUSTOMER.external_id))
    erp.amend_sales_order(ref.external_id, order(SEATS.model_copy(update={"quantity": Decimal(5)}),
                                                 OrderLine(sku="ANALYTICS", quantity=Decimal(2), rate=Decimal(240))))
    assert sorted((line["sku"], line["quantity"]) for line in erp.order_lines(ref.external_id)) == [
        ("ANALYTICS", Decimal(2)), ("PLATFORM-ENT", Decimal(5))]
    erp.close_sales_order(ref.external_id)
    [stored] = sandbox.records("oracle", "salesOrdersForOrderHub")
    assert stored["StatusCode"] == "CLOSED" and {line["CancelReason"] for line in stored["lines"]} == {
        "CUSTOMER_REQUEST"}
    erp.void_sales_order(ref.external_id)  # nothing open is left to cancel: a no-op, not an error


def test_cancelling_a_line_without_a_reason_is_refused_as_oracle_does(sandbox, connect):
    erp = connect(OracleErp)
    erp.upsert_customer(CUSTOMER)
    ref = erp.create_sales_order(order(SEATS), idempotency_key="k:so")
    with pytest.raises(ValidationFailed, match="DOO-2681"):
        erp._patch_lines(ref.external_id, [{"SourceTransactionLineId": "1", "OrderedQuantity": 0}])


def test_an_order_for_an_unknown_customer_or_order_is_not_found(sandbox, connect):
    with pytest.raises(NotFound, match="not in oracle"):
        connect(OracleErp).create_sales_order(order(customer="NOBODY:LE-DE"), idempotency_key="k:so")
    with pytest.raises(NotFound, match="not in oracle"):
        connect(OracleErp).close_sales_order("missing")


def test_invoice_receipt_credit_memo_and_forecast_post_once(sandbox, connect):
    erp = connect(OracleErp)
    erp.upsert_customer(CUSTOMER)
    erp.create_sales_order(order(), idempotency_key="k:so")
    invoice = ErpInvoice(customer_external_id=CUSTOMER.external_id, currency="EUR", lines=[SEATS])
    inv = erp.post_invoice(invoice, idempotency_key="posting:chargebee:inv_1:erp.invoice")
    assert erp.post_invoice(invoice, idempotency_key="posting:chargebee:inv_1:erp.invoice") == inv
    payment = ErpPayment(customer_external_id=CUSTOMER.external_id, amount=Decimal(3600), currency="EUR",
                         invoice_external_id=inv.external_id)
    pay = erp.post_payment(payment, idempotency_key="posting:chargebee:txn_1:erp.payment")
    assert erp.post_payment(payment, idempotency_key="posting:chargebee:txn_1:erp.payment") == pay
    erp.issue_credit_memo(CreditMemo(customer_external_id=CUSTOMER.external_id, currency="EUR", lines=[SEATS]),
                          idempotency_key="k:cm")
    for amount in (Decimal(10), Decimal(20)):
        erp.update_forecast(Forecast(external_id="F1", customer_external_id=CUSTOMER.external_id, period="2025-Q4",
                                     amount=amount, currency="EUR"))
    [stored] = sandbox.records("oracle", "receivablesInvoices")
    assert (stored["BusinessUnit"], len(stored["TransactionNumber"])) == ("DE01", 20)  # fitted to TRX_NUMBER
    [receipt] = sandbox.records("oracle", "standardReceipts")
    assert receipt["remittanceReferences"] == [{"ReceiptMatchBy": "Transaction Number",
                                                "ReferenceNumber": inv.external_id, "ReferenceAmount": 3600.0}]
    assert sandbox.records("oracle", "receivablesCreditMemos")[0]["receivablesCreditMemoLines"][0]["Quantity"] == -3
    [forecast] = sandbox.records("oracle", "ErphubForecast_c")
    assert forecast["Amount_c"] == 20 and erp.concurrency_limit() is None


def test_a_receipt_before_its_invoice_is_not_found(sandbox, connect):
    erp = connect(OracleErp)
    erp.upsert_customer(CUSTOMER)
    with pytest.raises(NotFound, match="invoice inv-9 is not in oracle"):
        erp.post_payment(ErpPayment(customer_external_id=CUSTOMER.external_id, amount=Decimal(1), currency="EUR",
                                    invoice_external_id="inv-9"), idempotency_key="k:pay")


def test_429_and_503_with_retry_after_are_honoured_then_typed(sandbox, connect):
    erp = connect(OracleErp, max_attempts=2)
    erp.upsert_customer(CUSTOMER)
    sandbox.faults.inject("oracle", "salesOrdersForOrderHub.query", kind="429", retry_after=1, times=1)
    started = time.monotonic()
    erp.create_sales_order(order(), idempotency_key="k:so")
    assert time.monotonic() - started >= 1.0
    sandbox.faults.inject("oracle", "salesOrdersForOrderHub.query", kind="503", times=2)
    with pytest.raises(RateLimited, match="oracle 503"):
        erp.order_lines("k-so")


def test_a_wrong_password_is_permanent(sandbox, connect, rotate):
    rotate("oracle", username="erphub.integration", password="wrong")
    with pytest.raises(Permanent, match="oracle 401"):
        connect(OracleErp).upsert_customer(CUSTOMER)


def test_a_key_with_quotes_finds_its_account_again(sandbox, connect):
    customer = CUSTOMER.model_copy(update={"external_id": "O'Brien & Co 100%:LE-DE"})
    erp = connect(OracleErp)
    erp.upsert_customer(customer)
    ref = connect(OracleErp).create_sales_order(order(customer=customer.external_id), idempotency_key="k:so")
    assert len(sandbox.records("oracle", "accounts")) == 1 and ref.external_id == "k-so"  # no colon in an OrderKey id
    connect(OracleErp).close_sales_order(ref.external_id)
    assert sandbox.records("oracle", "salesOrdersForOrderHub")[0]["StatusCode"] == "CLOSED"


@pytest.mark.sends_off_contract
def test_the_sandbox_refuses_a_request_without_the_framework_version(sandbox):
    import requests

    response = requests.get(f"{sandbox.base_url('oracle')}/crmRestApi/resources/11.13.18.05/accounts",
                            auth=("erphub.integration", "oracle-sandbox-Welcome1"), timeout=5)
    assert response.status_code == 400
    assert "header REST-Framework-Version is required" in response.json()["o:errorDetails"][0]["detail"]
