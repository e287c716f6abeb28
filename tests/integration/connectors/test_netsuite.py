"""NetSuite: TBA signed as documented, every ERP operation against the sandbox, upsert by external id under
retries, the account concurrency limit."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest

from erphub.connectors import oauth1
from erphub.connectors.interfaces import (
    CreditMemo,
    ErpCustomer,
    ErpInvoice,
    ErpPayment,
    Forecast,
    OrderLine,
    SalesOrder,
)
from erphub.connectors.netsuite import NetSuiteErp
from erphub.errors import NotFound, Permanent, RateLimited, ValidationFailed

pytestmark = pytest.mark.integration

LINE = OrderLine(sku="PLATFORM", quantity=Decimal(10), rate=Decimal("120.00"), tax_code="S-GB",
                 rev_rec_start=date(2025, 1, 1), rev_rec_end=date(2025, 12, 31))


def order(customer: str = "ACME-UK", lines: list[OrderLine] | None = None) -> SalesOrder:
    return SalesOrder(customer_external_id=customer, currency="GBP", subsidiary="3", lines=lines or [LINE],
                      billing_schedule="Annual in advance", contract_id="006A")


def test_the_signature_matches_a_hand_computed_hmac_sha256():
    # base string: PUT&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2F
    # salesOrder%2Feid%3ASO-42&oauth_consumer_key%3Dck%26oauth_nonce%3Dabc123%26oauth_signature_method%3D
    # HMAC-SHA256%26oauth_timestamp%3D1700000000%26oauth_token%3Dtk%26oauth_version%3D1.0%26replace%3Ditem
    # computed with: printf '%s' "$BASE" | openssl dgst -sha256 -hmac 'cs%2Bsecret&ts' -binary | base64
    creds = oauth1.TokenCredentials("1234567-sb1", "ck", "cs+secret", "tk", "ts")
    url = "https://1234567-SB1.suitetalk.api.netsuite.com:443/services/rest/record/v1/salesOrder/eid:SO-42"
    header = oauth1.authorization_header(creds, "put", url, {"replace": "item"}, nonce="abc123",
                                         timestamp=1700000000)
    assert 'oauth_signature="goOqLykQwGHg5vD5t6Cq%2F3UeRLD5ExFm9MXCpy%2Bl2TU%3D"' in header


def test_authorization_header_carries_the_realm_and_every_oauth_field():
    creds = oauth1.TokenCredentials("1234567-sb1", "ck", "cs+secret", "tk", "ts")
    header = oauth1.authorization_header(creds, "PUT", "https://x.example/a?replace=item", nonce="abc123",
                                         timestamp=1700000000)
    assert header.startswith('OAuth realm="1234567_SB1"')
    for field in ('oauth_consumer_key="ck"', 'oauth_token="tk"', 'oauth_signature_method="HMAC-SHA256"',
                  'oauth_version="1.0"', 'oauth_nonce="abc123"', 'oauth_timestamp="1700000000"', "oauth_signature="):
        assert field in header


def test_a_badly_signed_request_is_refused_with_netsuites_invalid_login(sandbox, connect, rotate):
    rotate("netsuite", **{**sandbox.credentials("netsuite"), "token_secret": "not-the-secret"})
    erp = connect(NetSuiteErp)
    with pytest.raises(Permanent, match="INVALID_LOGIN") as raised:
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    assert not isinstance(raised.value, ValidationFailed)
    assert sandbox.records("netsuite", "customer") == []


def test_customer_upsert_by_external_id_yields_one_record(sandbox, connect):
    erp = connect(NetSuiteErp)
    first = erp.upsert_customer(ErpCustomer(external_id="ACME-UK", name="Acme Ltd", subsidiary="3", currency="GBP"))
    second = erp.upsert_customer(ErpCustomer(external_id="ACME-UK", name="Acme Limited", subsidiary="3"))
    customers = sandbox.records("netsuite", "customer")
    assert first.id == second.id and len(customers) == 1
    assert customers[0]["companyName"] == "Acme Limited"
    assert customers[0]["subsidiary"] == {"id": "3", "refName": "UK01"}


def test_sales_order_lifecycle(sandbox, connect):
    erp = connect(NetSuiteErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-UK", name="Acme Ltd"))
    ref = erp.create_sales_order(order(), idempotency_key="corr-1:create_sales_order")
    stored = erp.get_record("salesOrder", ref.external_id)
    line = stored["item"]["items"][0]
    assert line["item"] == {"externalId": "PLATFORM"} and line["revRecStartDate"] == "2025-01-01"
    assert stored["entity"] == {"externalId": "ACME-UK"}
    assert stored["billingSchedule"] == {"refName": "Annual in advance"}

    erp.amend_sales_order(ref.external_id, order(lines=[LINE.model_copy(update={"quantity": Decimal(15)})]))
    amended = sandbox.records("netsuite", "salesOrder")[0]
    assert [i["quantity"] for i in amended["item"]["items"]] == [15.0], "replace=item swaps the lines"

    erp.close_sales_order(ref.external_id)
    closed = sandbox.records("netsuite", "salesOrder")[0]
    assert closed["orderStatus"]["id"] == "H" and all(line["isClosed"] for line in closed["item"]["items"])
    erp.void_sales_order(ref.external_id)
    assert sandbox.records("netsuite", "salesOrder")[0]["orderStatus"] == {"id": "C"}


def test_invoice_payment_credit_memo_and_forecast(sandbox, connect):
    erp = connect(NetSuiteErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-UK", name="Acme Ltd"))
    so = erp.create_sales_order(order(), idempotency_key="corr-1:so")
    inv = erp.post_invoice(ErpInvoice(customer_external_id="ACME-UK", currency="GBP", lines=[LINE],
                                      sales_order_external_id=so.external_id, due_date=date(2025, 2, 1)),
                           idempotency_key="corr-1:invoice")
    erp.post_payment(ErpPayment(customer_external_id="ACME-UK", amount=Decimal(1200), currency="GBP",
                                invoice_external_id=inv.external_id), idempotency_key="corr-1:payment")
    erp.issue_credit_memo(CreditMemo(customer_external_id="ACME-UK", currency="GBP", lines=[LINE],
                                     invoice_external_id=inv.external_id, reason="downgrade"),
                          idempotency_key="corr-1:credit")
    erp.update_forecast(Forecast(external_id="F-ACME-2025Q3", customer_external_id="ACME-UK", period="2025-Q3",
                                 amount=Decimal(5000), currency="GBP", probability=Decimal("0.8")))
    assert sandbox.records("netsuite", "invoice")[0]["createdFrom"]["externalId"] == so.external_id
    payment = sandbox.records("netsuite", "customerPayment")[0]
    assert payment["apply"]["items"][0]["doc"] == {"id": inv.id, "externalId": inv.external_id}
    assert payment["payment"] == 1200
    assert sandbox.records("netsuite", "creditMemo")[0]["createdFrom"]["externalId"] == inv.external_id
    assert sandbox.records("netsuite", "creditMemo")[0]["memo"] == "downgrade"
    assert sandbox.records("netsuite", "customrecord_erphub_forecast")[0]["custrecord_erphub_period"] == "2025-Q3"


def test_unknown_customer_reference_is_validation_failed_with_netsuites_message(connect):
    erp = connect(NetSuiteErp)
    with pytest.raises(ValidationFailed, match="Invalid value for the resource or sub-resource field 'entity'"):
        erp.create_sales_order(order(customer="NOBODY"), idempotency_key="corr-2:so")


def test_amending_a_missing_order_is_not_found(connect):
    with pytest.raises(NotFound, match="NONEXISTENT_ID"):
        connect(NetSuiteErp).amend_sales_order("never-created", order())


def test_same_create_after_a_timeout_past_commit_yields_one_sales_order(sandbox, connect):
    erp = connect(NetSuiteErp, read_timeout_seconds=0.3)
    erp.upsert_customer(ErpCustomer(external_id="ACME-UK", name="Acme Ltd"))
    sandbox.faults.inject("netsuite", "salesOrder.upsert", kind="timeout", seconds=1.0, after_commit=True)
    ref = erp.create_sales_order(order(), idempotency_key="corr-3:create_sales_order")  # retried in-call
    assert erp.http.attempts >= 3
    assert [r["externalId"] for r in sandbox.records("netsuite", "salesOrder")] == [ref.external_id]
    erp.create_sales_order(order(), idempotency_key="corr-3:create_sales_order")  # resumed step
    assert len(sandbox.records("netsuite", "salesOrder")) == 1


def test_concurrency_limit_refusal_is_rate_limited(sandbox, connect):
    erp, other = connect(NetSuiteErp, max_attempts=1), connect(NetSuiteErp, max_attempts=1)
    erp.credentials, other.credentials  # noqa: B018 - read the secrets first: only the requests race
    sandbox.limit_concurrency("netsuite", 1)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="latency", seconds=1.0)
    slow = threading.Thread(target=erp.upsert_customer, args=(ErpCustomer(external_id="A", name="A"),))
    slow.start()
    deadline = time.monotonic() + 5
    while not sandbox.admitted("netsuite") and time.monotonic() < deadline:
        time.sleep(0.01)  # until the slow request holds the only slot
    with pytest.raises(RateLimited, match="CONCURRENCY_LIMIT_EXCEEDED"):
        other.upsert_customer(ErpCustomer(external_id="B", name="B"))
    slow.join()
    assert sandbox.refused("netsuite") == 1 and sandbox.max_in_flight("netsuite") == 1


def test_the_sandbox_records_the_peak_in_flight(sandbox, connect):
    # long enough that the four overlap even on a loaded machine; credentials read first: only the requests race
    sandbox.faults.inject("netsuite", "customer.upsert", kind="latency", seconds=2.0, times=4)
    erps = [connect(NetSuiteErp) for _ in range(4)]
    for erp in erps:
        erp.credentials  # noqa: B018
    threads = [threading.Thread(target=erp.upsert_customer, args=(ErpCustomer(external_id=f"C{i}", name="x"),))
               for i, erp in enumerate(erps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sandbox.max_in_flight("netsuite") == 4
    assert len(sandbox.records("netsuite", "customer")) == 4


def test_concurrency_limit_is_read_from_governance_limits(sandbox, connect):
    assert connect(NetSuiteErp).concurrency_limit() == 15


@pytest.mark.parametrize(("path", "method", "body", "message"), [
    ("customer/eid:C-9", "PUT", {"companyName": "Acme", "subsidiary": {"id": "UK01"}}, "subsidiary.id"),
    ("salesOrder/eid:SO-9", "PATCH", {"orderStatus": {"id": "H"}}, "orderStatus.id"),
    ("invoice/eid:INV-9", "PUT", {"entity": {"externalId": "ACME-UK"}, "createdFrom": {"externalId": "SO-9"}},
     "createdFrom"),
    ("customerPayment/eid:PAY-9", "PUT", {"customer": {"externalId": "ACME-UK"}, "payment": 10,
                                          "apply": {"items": [{"doc": {"externalId": "INV-9"}, "apply": True}]}},
     "apply.items"),
])
@pytest.mark.sends_off_contract
def test_netsuite_refuses_what_netsuite_refuses(sandbox, connect, path, method, body, message):
    erp = connect(NetSuiteErp, max_attempts=1)
    erp.upsert_customer(ErpCustomer(external_id="ACME-UK", name="Acme Ltd", subsidiary="UK01"))
    erp.create_sales_order(order(), idempotency_key="SO-9")
    # When a request names a subsidiary by text, closes an order by its status, writes createdFrom on an
    # upsert or keys a payment's apply line by external id
    with pytest.raises(ValidationFailed, match=message):
        erp.http.request(method, f"/services/rest/record/v1/{path}", json=body)
    # Then NetSuite's error body is returned and nothing was written
    assert sandbox.violations and sandbox.records("netsuite", "customerPayment") == []
    assert {c["externalId"] for c in sandbox.records("netsuite", "customer")} == {"ACME-UK"}


def test_a_subsidiary_named_in_the_deal_is_sent_as_its_internal_id(sandbox, connect):
    erp = connect(NetSuiteErp)
    erp.upsert_customer(ErpCustomer(external_id="ACME-DE", name="Acme GmbH", subsidiary="DE01"))
    assert sandbox.records("netsuite", "customer")[0]["subsidiary"] == {"id": "4", "refName": "DE01"}
    with pytest.raises(ValidationFailed, match="no subsidiary named XX99"):
        erp.upsert_customer(ErpCustomer(external_id="ACME-XX", name="Acme XX", subsidiary="XX99"))
