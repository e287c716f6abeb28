"""SAP S/4HANA Cloud (OData V2): CSRF handshake, business partners, sales orders changed under ETags and closed by
rejection, debit memo requests (invoices), payments, credit memo requests, forecasts, typed errors, 429/503."""

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
from erphub.connectors.sap import SapErp
from erphub.errors import Conflict, NotFound, Permanent, RateLimited, Transient, ValidationFailed

pytestmark = pytest.mark.integration

SEATS = OrderLine(sku="PLATFORM-ENT", quantity=Decimal(3), rate=Decimal("1200.00"))
USAGE = OrderLine(sku="API-CALLS", quantity=Decimal(0), rate=Decimal("0.0004"))
CUSTOMER = ErpCustomer(external_id="001LOCAL123456789:LE-US", name="Acme Inc.", subsidiary="US01", currency="USD",
                       country="US")


def order(*lines: OrderLine, customer: str = CUSTOMER.external_id) -> SalesOrder:
    return SalesOrder(customer_external_id=customer, currency="USD", subsidiary="US01", contract_id="006C1",
                      lines=list(lines or (SEATS, USAGE)))


def test_a_customer_is_one_business_partner_with_a_sales_area_found_again_by_our_key(sandbox, connect):
    sap = connect(SapErp)
    first = sap.upsert_customer(CUSTOMER)
    second = connect(SapErp).upsert_customer(CUSTOMER.model_copy(update={"name": "Acme Incorporated"}))
    [partner] = sandbox.records("sap", "A_BusinessPartner")
    assert (first.created, second.created) == (True, False)
    assert first.id == second.id == partner["BusinessPartner"]
    # our 23-character key does not fit BusinessPartnerIDByExtSystem (20): fitted, the same every time
    assert len(partner["BusinessPartnerIDByExtSystem"]) == 20 and partner["OrganizationBPName1"] == "Acme Incorporated"
    assert partner["to_Customer"]["to_CustomerSalesArea"][0]["SalesOrganization"] == "US01"


def test_every_modifying_call_carries_the_token_fetched_in_its_session(sandbox, connect,
                                                                      every_request_meets_its_contract):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    sap.create_sales_order(order(), idempotency_key="corr-1:erp.sales_order:LE-US")
    sent = every_request_meets_its_contract
    fetches = [r for r in sent if r.headers.get("x-csrf-token") == "Fetch"]
    writes = [r for r in sent if r.method != "GET"]
    assert fetches and writes and all(w.headers["x-csrf-token"] not in ("", "Fetch") for w in writes)
    assert all("SAP_SESSIONID_ERP_100" in (w.headers.get("Cookie") or "") for w in writes)


def test_an_expired_csrf_token_is_fetched_again_once(sandbox, connect):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    sandbox.vendors["sap"].expire_sessions()  # SAP's session timed out: the held token answers 403
    ref = sap.create_sales_order(order(), idempotency_key="k:so")
    assert len(sandbox.records("sap", "A_SalesOrder")) == 1 and ref.id == "1"


def test_a_token_refused_again_after_a_fresh_fetch_is_permanent(sandbox, connect, monkeypatch):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    monkeypatch.setattr(sandbox.vendors["sap"], "sessions", _ForgetfulDict())
    with pytest.raises(Permanent, match="CSRF token validation failed"):
        sap.create_sales_order(order(), idempotency_key="k:so")
    assert sandbox.records("sap", "A_SalesOrder") == []


class _ForgetfulDict(dict):
    """A session store that forgets every token it hands out (a gateway that never validates the token)."""

    def get(self, key, default=None):
        return None


def test_a_sales_order_is_created_once_then_changed_item_by_item_and_closed_by_rejection(sandbox, connect):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    ref = sap.create_sales_order(order(), idempotency_key="corr-2:erp.sales_order:LE-US")
    again = connect(SapErp).create_sales_order(order(), idempotency_key="corr-2:erp.sales_order:LE-US")
    assert ref == again and len(sandbox.records("sap", "A_SalesOrder")) == 1
    amended = [SEATS.model_copy(update={"quantity": Decimal(5), "rate": Decimal("1100.00")}),
               OrderLine(sku="ANALYTICS", quantity=Decimal(2), rate=Decimal(240))]
    sap.amend_sales_order(ref.external_id, order(*amended))
    assert sorted((line["sku"], line["quantity"], line["rate"]) for line in sap.order_lines(ref.external_id)) == [
        ("ANALYTICS", Decimal(2), Decimal(240)), ("PLATFORM-ENT", Decimal(5), Decimal(1100))]
    [stored] = sandbox.records("sap", "A_SalesOrder")
    assert [i["SalesDocumentRjcnReason"] for i in stored["to_Item"]] == ["", "10", ""]  # API-CALLS dropped
    sap.close_sales_order(ref.external_id)
    [stored] = sandbox.records("sap", "A_SalesOrder")
    assert stored["OverallSDDocumentRejectionSts"] == "C" and sap.order_lines(ref.external_id) == []


def test_a_change_over_a_stale_etag_is_made_again_on_the_record_as_it_is_now(sandbox, connect):
    # Given an order item read before another change to the order (another run's step, the ERP posting)
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    ref = sap.create_sales_order(order(SEATS), idempotency_key="k:so")
    stale = sap._order(ref.external_id)
    sap.amend_sales_order(ref.external_id, order(SEATS.model_copy(update={"quantity": Decimal(4)})))
    # When it is changed with the ETag it was read with: SAP answers 412, the item is read again and changed
    sap._reject(sap._items(stale)[0], "10")
    # Then both changes hold
    item = sap._item_now(stale["to_Item"]["results"][0])
    assert item is not None and (item["SalesDocumentRjcnReason"], item["RequestedQuantity"]) == ("10", "4")


def test_a_record_that_changed_at_every_attempt_is_a_conflict(sandbox, connect, monkeypatch):
    from local.sandbox import sap_odata

    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    ref = sap.create_sales_order(order(SEATS), idempotency_key="k:so")
    item = sap._items(sap._order(ref.external_id))[0]
    refusals = []

    def always_changed(record, if_match):
        refusals.append(if_match)
        return sap_odata.error(412, "/IWBEP/CM_MGW_RT/022", "Precondition failed: the entity was changed by another "
                                                            "user")

    monkeypatch.setattr(sap_odata, "precondition", always_changed)
    with pytest.raises(Conflict, match="412 /IWBEP/CM_MGW_RT/022"):
        sap._reject(item, "10")
    assert len(refusals) == 3  # UPDATE_ATTEMPTS PATCHes, each after reading the record again


def test_a_record_that_changed_and_is_gone_is_not_found(sandbox, connect, monkeypatch):
    from local.sandbox import sap_odata

    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    ref = sap.create_sales_order(order(SEATS), idempotency_key="k:so")
    item = sap._items(sap._order(ref.external_id))[0]
    monkeypatch.setattr(sap_odata, "precondition", lambda record, if_match: sap_odata.error(
        412, "/IWBEP/CM_MGW_RT/022", "Precondition failed: the entity was changed by another user"))
    monkeypatch.setattr(sap, "_item_now", lambda item: None)
    with pytest.raises(NotFound, match="no longer in sap"):
        sap._reject(item, "10")


def test_an_order_for_a_customer_sap_does_not_know_is_not_found(sandbox, connect):
    with pytest.raises(NotFound, match="not in sap"):
        connect(SapErp).create_sales_order(order(customer="NOBODY:LE-US"), idempotency_key="k:so")
    with pytest.raises(NotFound, match="not in sap"):
        connect(SapErp).amend_sales_order("missing", order())


def test_a_sold_to_party_outside_its_sales_area_is_refused_with_sap_s_message(sandbox, connect):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    with pytest.raises(ValidationFailed, match="V1/303: Sold-to party 1000100 not maintained for sales area DE01"):
        sap.create_sales_order(order().model_copy(update={"subsidiary": "DE01"}), idempotency_key="k:so")


def test_invoice_payment_credit_memo_and_forecast_post_once(sandbox, connect):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    invoice = ErpInvoice(customer_external_id=CUSTOMER.external_id, currency="USD", lines=[SEATS])
    inv = sap.post_invoice(invoice, idempotency_key="posting:stripe:in_1:erp.invoice")
    assert sap.post_invoice(invoice, idempotency_key="posting:stripe:in_1:erp.invoice") == inv
    payment = ErpPayment(customer_external_id=CUSTOMER.external_id, amount=Decimal(3600), currency="USD",
                         invoice_external_id=inv.external_id)
    pay = sap.post_payment(payment, idempotency_key="posting:stripe:pi_1:erp.payment")
    assert sap.post_payment(payment, idempotency_key="posting:stripe:pi_1:erp.payment") == pay
    sap.issue_credit_memo(CreditMemo(customer_external_id=CUSTOMER.external_id, currency="USD", lines=[SEATS]),
                          idempotency_key="k:cm")
    for amount in (Decimal(10), Decimal(20)):
        sap.update_forecast(Forecast(external_id="F1", customer_external_id=CUSTOMER.external_id, period="2025-Q4",
                                     amount=amount, currency="USD", probability=Decimal("0.6")))
    [request] = sandbox.records("sap", "A_DebitMemoRequest")
    assert request["SoldToParty"] == "1000100" and request["SalesOrganization"] == "US01"
    [paid] = sandbox.records("sap", "YY1_ERPHUBPAYMENT")
    assert (paid["Amount_V"], paid["InvoiceReference"]) == ("3600", inv.external_id)
    assert len(sandbox.records("sap", "A_CreditMemoRequest")) == 1
    [forecast] = sandbox.records("sap", "YY1_ERPHUBFORECAST")
    assert forecast["Amount_V"] == "20" and sap.concurrency_limit() is None


def test_a_payment_before_its_invoice_is_not_found(sandbox, connect):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    with pytest.raises(NotFound, match="invoice inv-9 is not in sap"):
        sap.post_payment(ErpPayment(customer_external_id=CUSTOMER.external_id, amount=Decimal(1), currency="USD",
                                    invoice_external_id="inv-9"), idempotency_key="k:pay")


def test_429_and_503_with_retry_after_are_honoured_then_typed(sandbox, connect):
    sap = connect(SapErp, max_attempts=2)
    sap.upsert_customer(CUSTOMER)
    sandbox.faults.inject("sap", "A_SalesOrder.query", kind="429", retry_after=1, times=1)
    started = time.monotonic()
    sap.create_sales_order(order(), idempotency_key="k:so")
    assert time.monotonic() - started >= 1.0
    sandbox.faults.inject("sap", "A_SalesOrder.query", kind="503", times=2)
    with pytest.raises(RateLimited, match="503 /IWFND/CM_BEC/026"):
        sap.order_lines("k-so")
    sandbox.faults.inject("sap", "A_SalesOrder.create", kind="timeout", seconds=3)
    with pytest.raises(Transient, match="timed out"):
        connect(SapErp, read_timeout_seconds=0.5).create_sales_order(order(), idempotency_key="k:so2")


def test_a_wrong_password_is_permanent_even_after_the_secret_is_read_again(sandbox, connect, rotate):
    rotate("sap", username="ERPHUB_COMM_USER", password="wrong")
    sap = connect(SapErp)
    with pytest.raises(Permanent, match="Logon failed"):
        sap.upsert_customer(CUSTOMER)


@pytest.mark.parametrize("key", ["O'Brien & Co 100%:LE-US", "ACME/DE?x=1#2", "a'' or 'x' eq 'x"])
def test_keys_with_quotes_and_url_characters_find_the_same_record_again(sandbox, connect, key):
    sap = connect(SapErp)
    first = sap.upsert_customer(CUSTOMER.model_copy(update={"external_id": key}))
    again = connect(SapErp).upsert_customer(CUSTOMER.model_copy(update={"external_id": key}))
    assert (first.created, again.created, first.id) == (True, False, again.id)
    assert len(sandbox.records("sap", "A_BusinessPartner")) == 1


@pytest.mark.sends_off_contract
def test_the_sandbox_refuses_a_write_without_csrf_token_and_a_change_without_if_match(sandbox):
    import requests

    base, auth = f"{sandbox.base_url('sap')}/sap/opu/odata/sap/API_BUSINESS_PARTNER", ("ERPHUB_COMM_USER",
                                                                                         "sap-sandbox-Passw0rd!")
    refused = requests.post(f"{base}/A_BusinessPartner", json={"BusinessPartnerCategory": "2"}, auth=auth, timeout=5)
    assert (refused.status_code, refused.text, refused.headers["x-csrf-token"]) == (
        403, "CSRF token validation failed", "Required")
    session = requests.Session()
    token = session.get(f"{base}/", headers={"x-csrf-token": "Fetch"}, auth=auth, timeout=5).headers["x-csrf-token"]
    created = session.post(f"{base}/A_BusinessPartner", auth=auth, timeout=5, headers={"x-csrf-token": token},
                           json={"BusinessPartnerCategory": "2", "OrganizationBPName1": "Acme"}).json()["d"]
    path = f"{base}/A_BusinessPartner('{created['BusinessPartner']}')"
    bare = session.patch(path, json={"OrganizationBPName1": "X"}, auth=auth, headers={"x-csrf-token": token}, timeout=5)
    assert bare.status_code == 428 and bare.json()["error"]["code"] == "/IWBEP/CM_MGW_RT/021"
    fresh = session.patch(path, json={"OrganizationBPName1": "X"}, auth=auth, timeout=5,
                          headers={"x-csrf-token": token, "If-Match": created["__metadata"]["etag"]})
    assert fresh.status_code == 204


def test_numbers_continue_after_the_sandbox_state_is_restored(sandbox, connect):
    sap = connect(SapErp)
    sap.upsert_customer(CUSTOMER)
    first = sap.create_sales_order(order(), idempotency_key="k:so1")
    vendor = sandbox.vendors["sap"]
    saved = vendor.state()
    vendor.reset()
    vendor.load_state(saved)  # `erphub up --state`: the records come back, and SAP's number range goes on
    second = connect(SapErp).create_sales_order(order(), idempotency_key="k:so2")
    assert (first.id, second.id) == ("1", "2") and len(sandbox.records("sap", "A_SalesOrder")) == 2
