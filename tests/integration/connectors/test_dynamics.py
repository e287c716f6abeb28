"""Dynamics 365 (Dataverse): client-credentials token, upsert by alternate key, actions, 429 + Retry-After."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from erphub.connectors.dynamics import DynamicsErp
from erphub.connectors.interfaces import (
    CreditMemo,
    ErpCustomer,
    ErpInvoice,
    ErpPayment,
    Forecast,
    OrderLine,
    SalesOrder,
)
from erphub.errors import NotFound, Permanent, RateLimited, ValidationFailed

pytestmark = pytest.mark.integration

LINE = OrderLine(sku="PLATFORM", quantity=Decimal(3), rate=Decimal(100))


def order(customer: str = "ACME-DE") -> SalesOrder:
    return SalesOrder(customer_external_id=customer, currency="EUR", subsidiary="DE01", lines=[LINE, LINE])


def test_customer_upsert_by_alternate_key_creates_once_then_updates(sandbox, connect):
    erp = connect(DynamicsErp)
    first = erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH"))
    second = erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH & Co"))
    assert (first.created, second.created) == (True, False) and first.id == second.id
    accounts = sandbox.records("dynamics", "accounts")
    assert len(accounts) == 1 and accounts[0]["name"] == "Acme GmbH & Co" and accounts[0]["accountnumber"] == "ACME-DE"


def test_sales_order_with_lines_then_amend_fulfil_and_cancel(sandbox, connect):
    erp = connect(DynamicsErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH"))
    ref = erp.create_sales_order(order(), idempotency_key="corr-9:so")
    again = erp.create_sales_order(order(), idempotency_key="corr-9:so")
    assert ref.id == again.id and len(sandbox.records("dynamics", "salesorders")) == 1
    assert len(sandbox.records("dynamics", "salesorderdetails")) == 2
    erp.amend_sales_order(ref.external_id, order())
    erp.close_sales_order(ref.external_id)
    assert sandbox.records("dynamics", "salesorders")[0]["statecode"] == 3
    erp.void_sales_order(ref.external_id)
    assert sandbox.records("dynamics", "salesorders")[0]["statecode"] == 2


def test_amend_never_creates_a_missing_order(sandbox, connect):
    with pytest.raises(NotFound, match="0x80040217"):
        connect(DynamicsErp).amend_sales_order("missing", order())
    assert sandbox.records("dynamics", "salesorders") == []


def test_invoice_payment_credit_memo_forecast(sandbox, connect):
    erp = connect(DynamicsErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH"))
    so = erp.create_sales_order(order(), idempotency_key="k:so")
    inv = erp.post_invoice(ErpInvoice(customer_external_id="ACME-DE", currency="EUR", lines=[LINE],
                                      sales_order_external_id=so.external_id), idempotency_key="k:inv")
    erp.post_payment(ErpPayment(customer_external_id="ACME-DE", amount=Decimal(300), currency="EUR",
                                invoice_external_id=inv.external_id), idempotency_key="k:pay")
    erp.issue_credit_memo(CreditMemo(customer_external_id="ACME-DE", currency="EUR", lines=[LINE],
                                     invoice_external_id=inv.external_id), idempotency_key="k:cm")
    erp.update_forecast(Forecast(external_id="F1", customer_external_id="ACME-DE", period="2025-Q4",
                                 amount=Decimal(10), currency="EUR"))
    assert len(sandbox.records("dynamics", "invoices")) == 1 and len(sandbox.records("dynamics", "invoicedetails")) == 1
    assert sandbox.records("dynamics", "erphub_payments")[0]["erphub_amount"] == 300
    assert sandbox.records("dynamics", "erphub_creditmemos")[0]["erphub_amount"] == 300
    assert sandbox.records("dynamics", "erphub_forecasts")[0]["erphub_period"] == "2025-Q4"
    assert erp.concurrency_limit() is None


def test_reference_to_a_missing_account_is_validation_failed(connect):
    with pytest.raises(ValidationFailed, match="does not exist in account entity"):
        connect(DynamicsErp).create_sales_order(order("NOBODY"), idempotency_key="k:so")


def test_429_with_retry_after_is_honoured_then_rate_limited_when_persistent(sandbox, connect):
    erp = connect(DynamicsErp, max_attempts=2)
    erp.upsert_customer(ErpCustomer(external_id="X", name="warm the token"))
    sandbox.faults.inject("dynamics", "accounts.upsert", kind="429", retry_after=1, times=1)
    started = time.monotonic()
    erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme"))
    assert time.monotonic() - started >= 1.0
    sandbox.faults.inject("dynamics", "accounts.upsert", kind="429", retry_after=0, times=2)
    with pytest.raises(RateLimited, match="0x80072322"):
        erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme"))


def test_a_wrong_client_secret_is_refused_by_the_token_endpoint(sandbox, connect):
    erp = connect(DynamicsErp)
    erp._credentials = {**sandbox.credentials("dynamics"), "client_secret": "wrong"}
    with pytest.raises(Permanent, match="AADSTS7000215"):
        erp.upsert_customer(ErpCustomer(external_id="A", name="A"))


def test_a_bearer_token_refused_even_after_a_refresh_fails_typed(sandbox, connect, monkeypatch):
    erp = connect(DynamicsErp)
    erp.upsert_customer(ErpCustomer(external_id="A", name="A"))
    erp.token._token = "forged"
    monkeypatch.setattr(sandbox.vendors["dynamics"].issuer, "valid", lambda token: False)
    with pytest.raises(Permanent, match="0x80072560"):
        erp.upsert_customer(ErpCustomer(external_id="A", name="A"))


@pytest.mark.parametrize("key", ["ACME#DE", "ACME?DE=1", "ACME/DE", "O'Brien & Co 100%"])
def test_alternate_key_values_are_url_encoded(sandbox, connect, key):
    erp = connect(DynamicsErp)
    erp.upsert_customer(ErpCustomer(external_id=key, name="Acme"))
    erp.create_sales_order(order(key), idempotency_key=f"{key}:so")
    assert [a["accountnumber"] for a in sandbox.records("dynamics", "accounts")] == [key]
    assert erp.get_record("accounts", key, "accountnumber")["name"] == "Acme"
    assert len(sandbox.records("dynamics", "salesorders")) == 1


def test_an_expired_token_is_refreshed_once(sandbox, connect):
    erp = connect(DynamicsErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH"))
    sandbox.vendors["dynamics"].issuer.revoke_all()
    assert erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme AG")).created is False


@pytest.mark.sends_off_contract
@pytest.mark.parametrize("raw_key", ["ACME#DE", "ACME/DE", "ACME?DE"])
def test_an_alternate_key_sent_unencoded_is_refused(sandbox, connect, raw_key):
    erp = connect(DynamicsErp, max_attempts=1)
    # `#` ends the URL, `?` starts the query and `/` splits the segment: Dataverse cannot read the key
    with pytest.raises((ValidationFailed, NotFound)):
        erp.http.request("PATCH", f"/api/data/v9.2/accounts(accountnumber='{raw_key}')", json={"name": "Acme"},
                         headers={"Content-Type": "application/json"})
    assert sandbox.records("dynamics", "accounts") == []


def test_the_lines_of_an_order_are_read_as_booked_for_reconciliation(sandbox, connect):
    # Given two orders with their own lines (the other order's lines must not be read with this one)
    erp = connect(DynamicsErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH"))
    ref = erp.create_sales_order(order(), idempotency_key="corr-r:so")
    erp.create_sales_order(SalesOrder(customer_external_id="ACME-DE", currency="EUR", subsidiary="DE01",
                                      lines=[OrderLine(sku="SSO", quantity=Decimal(1), rate=Decimal(9))]),
                           idempotency_key="corr-r:other")
    erp.amend_sales_order(ref.external_id, SalesOrder(customer_external_id="ACME-DE", currency="EUR", subsidiary="DE01",
                                                      lines=[LINE, OrderLine(sku="ANALYTICS", quantity=Decimal(20),
                                                                             rate=Decimal(240))]))
    # When reconciliation reads the amended order, Then it sees its lines as amended, no others
    assert erp.order_lines(ref.external_id) == [{"sku": "PLATFORM", "quantity": 3.0, "rate": 100.0},
                                                {"sku": "ANALYTICS", "quantity": 20.0, "rate": 240.0}]
    with pytest.raises(NotFound):
        erp.order_lines("no-such-order")
