"""Dynamics 365 through the Dataverse Web API (OData v4), with an OAuth 2.0 client-credentials token.

Writes are upserts by alternate key (`PATCH /api/data/v9.2/accounts(accountnumber='X')`), so the same
create twice yields one record; `Prefer: return=representation` makes Dataverse answer 201 when it created
and 200 when it updated. Service-protection limits answer 429 with Retry-After: RateLimited.

Secret (DYNAMICS_SECRET_NAME): {"tenant_id", "client_id", "client_secret"} and optionally "token_url"
(default https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token) and "scope" (default
<base url>/.default). Base URL (DYNAMICS_BASE_URL): https://<org>.crm.dynamics.com
Tables other than accounts are keyed by an `erphub_externalid` alternate key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from erphub.connectors.base import Connector, external_key
from erphub.connectors.credentials import require
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import (
    CreditMemo,
    ErpCustomer,
    ErpInvoice,
    ErpPayment,
    Forecast,
    OrderLine,
    RecordRef,
    SalesOrder,
)
from erphub.connectors.oauth2 import ClientCredentialsToken, oauth_error

API = "/api/data/v9.2"
KEY = "erphub_externalid"


def parse_error(response: requests.Response) -> VendorError:
    """{"error": {"code": "0x80060891", "message": "..."}}"""
    body = json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return VendorError(str(body["error"].get("message", "")), str(body["error"].get("code", "")))
    return VendorError(response.text[:300] or response.reason)


def odata_literal(value: str) -> str:
    """A string key value in a URL path: quotes doubled (OData ABNF), then percent-encoded, so that `#`, `?`, `/`,
    `%` or `&` in a key cannot end the path segment (OData URL Conventions §2: literals are URL-encoded)."""
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


def key_path(entity_set: str, value: str, column: str = KEY) -> str:
    return f"{entity_set}({column}={odata_literal(value)})"


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


class DynamicsErp(Connector):
    system = "dynamics"

    def make_client(self) -> HttpClient:
        tenant, client_id, secret = require(self.credentials, self.system, "tenant_id", "client_id", "client_secret")
        token_url = self.credentials.get("token_url") or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
        scope = self.credentials.get("scope") or f"{self.config.base_url.rstrip('/')}/.default"
        token_client = self.client(error_parser=oauth_error)
        self.token = ClientCredentialsToken(token_client, token_url,
                                            {"client_id": client_id, "client_secret": secret, "scope": scope})
        headers = {"OData-MaxVersion": "4.0", "OData-Version": "4.0"}
        return self.client(auth=lambda *_: {**headers, **self.token.header()}, error_parser=parse_error,
                           reauthenticate=self.token.invalidate)

    def _upsert(self, path: str, body: dict[str, Any], record: str, kind: str,
                external_id: str, *, only_update: bool = False) -> RecordRef:
        headers = {"Content-Type": "application/json", "Prefer": "return=representation"}
        if only_update:
            headers["If-Match"] = "*"  # Dataverse then refuses to create (404) instead of upserting
        response = self.http.request("PATCH", f"{API}/{path}", json=_clean(body), headers=headers, record=record)
        data = json_or_none(response) or {}
        record_id = str(data.get(f"{kind}id") or "")  # Dataverse names the primary key <table>id
        entity_id = response.headers.get("OData-EntityId", "")
        if not record_id and "(" in entity_id:
            record_id = entity_id.rsplit("(", 1)[-1].rstrip(")")
        created = True if response.status_code == 201 else False if response.status_code == 200 else None
        return RecordRef(system=self.system, kind=kind, id=record_id or external_id,
                         external_id=external_id, created=created)

    def upsert_customer(self, customer: ErpCustomer) -> RecordRef:
        return self._upsert(key_path("accounts", customer.external_id, "accountnumber"), {
            "name": customer.name,
            "emailaddress1": customer.email,
            "erphub_legalentity": customer.subsidiary,
            "erphub_currency": customer.currency,
            "erphub_taxid": customer.tax_id,
            "address1_country": customer.country,
        }, f"accounts/{customer.external_id}", "account", customer.external_id)

    def _lines(self, line_set: str, parent_bind: str, parent_path: str, key: str, lines: list[OrderLine]) -> None:
        for number, line in enumerate(lines, start=1):
            line_key = f"{key}-{number}"
            self._upsert(key_path(line_set, line_key), {
                parent_bind: f"/{parent_path}",
                "isproductoverridden": True,
                "productdescription": line.description or line.sku,
                "erphub_sku": line.sku,
                "quantity": float(line.quantity),
                "priceperunit": float(line.rate),
                "erphub_taxcode": line.tax_code,
                "erphub_revrecstart": line.rev_rec_start.isoformat() if line.rev_rec_start else None,
                "erphub_revrecend": line.rev_rec_end.isoformat() if line.rev_rec_end else None,
                "lineitemnumber": number,
            }, f"{line_set}/{line_key}", line_set.rstrip("s"), line_key)

    def _order(self, key: str, order: SalesOrder, *, only_update: bool) -> RecordRef:
        path = key_path("salesorders", key)
        ref = self._upsert(path, {
            "name": order.memo or f"Order {key}",
            "customerid_account@odata.bind": f"/{key_path('accounts', order.customer_external_id, 'accountnumber')}",
            "erphub_currency": order.currency,
            "erphub_legalentity": order.subsidiary,
            "erphub_billingschedule": order.billing_schedule,
            "erphub_contractid": order.contract_id,
            "datefulfilled": None,
            "requestdeliveryby": order.tran_date.isoformat() if order.tran_date else None,
        }, f"salesorders/{key}", "salesorder", key, only_update=only_update)
        self._lines("salesorderdetails", "salesorderid@odata.bind", path, key, order.lines)
        return ref

    def create_sales_order(self, order: SalesOrder, *, idempotency_key: str) -> RecordRef:
        return self._order(external_key(idempotency_key), order, only_update=False)

    def amend_sales_order(self, external_id: str, order: SalesOrder) -> RecordRef:
        return self._order(external_id, order, only_update=True)

    def _close(self, action: str, external_id: str, status: int) -> None:
        self.http.request("POST", f"{API}/{action}", headers={"Content-Type": "application/json"},
                          idempotency_key=external_id, record=f"salesorders/{external_id}", json={
                              "OrderClose": {"@odata.type": "Microsoft.Dynamics.CRM.orderclose",
                                             "subject": f"{action} {external_id}",
                                             "salesorderid@odata.bind": f"/{key_path('salesorders', external_id)}"},
                              "Status": status})

    def close_sales_order(self, external_id: str) -> None:
        self._close("FulfillSalesOrder", external_id, 100001)  # statuscode Complete

    def void_sales_order(self, external_id: str) -> None:
        self._close("CancelSalesOrder", external_id, -1)  # -1: the default status for Canceled

    def post_invoice(self, invoice: ErpInvoice, *, idempotency_key: str) -> RecordRef:
        key = external_key(idempotency_key)
        path = key_path("invoices", key)
        so = invoice.sales_order_external_id
        ref = self._upsert(path, {
            "name": invoice.memo or f"Invoice {key}",
            "customerid_account@odata.bind": f"/{key_path('accounts', invoice.customer_external_id, 'accountnumber')}",
            "salesorderid@odata.bind": f"/{key_path('salesorders', so)}" if so else None,
            "erphub_currency": invoice.currency,
            "duedate": invoice.due_date.isoformat() if invoice.due_date else None,
        }, f"invoices/{key}", "invoice", key)
        self._lines("invoicedetails", "invoiceid@odata.bind", path, key, invoice.lines)
        return ref

    def post_payment(self, payment: ErpPayment, *, idempotency_key: str) -> RecordRef:
        key = external_key(idempotency_key)
        inv = payment.invoice_external_id
        return self._upsert(key_path("erphub_payments", key), {
            "erphub_customer@odata.bind": f"/{key_path('accounts', payment.customer_external_id, 'accountnumber')}",
            "erphub_invoice@odata.bind": f"/{key_path('invoices', inv)}" if inv else None,
            "erphub_amount": float(payment.amount),
            "erphub_currency": payment.currency,
            "erphub_date": payment.tran_date.isoformat() if payment.tran_date else None,
        }, f"erphub_payments/{key}", "erphub_payment", key)

    def issue_credit_memo(self, memo: CreditMemo, *, idempotency_key: str) -> RecordRef:
        key = external_key(idempotency_key)
        inv = memo.invoice_external_id
        return self._upsert(key_path("erphub_creditmemos", key), {
            "erphub_customer@odata.bind": f"/{key_path('accounts', memo.customer_external_id, 'accountnumber')}",
            "erphub_invoice@odata.bind": f"/{key_path('invoices', inv)}" if inv else None,
            "erphub_amount": float(sum(line.quantity * line.rate for line in memo.lines)),
            "erphub_currency": memo.currency,
            "erphub_reason": memo.reason,
        }, f"erphub_creditmemos/{key}", "erphub_creditmemo", key)

    def update_forecast(self, forecast: Forecast) -> RecordRef:
        return self._upsert(key_path("erphub_forecasts", forecast.external_id), {
            "erphub_customer@odata.bind": f"/{key_path('accounts', forecast.customer_external_id, 'accountnumber')}",
            "erphub_period": forecast.period,
            "erphub_amount": float(forecast.amount),
            "erphub_currency": forecast.currency,
            "erphub_probability": float(forecast.probability) if forecast.probability is not None else None,
        }, f"erphub_forecasts/{forecast.external_id}", "erphub_forecast", forecast.external_id)

    def order_lines(self, external_id: str) -> list[dict[str, Any]]:
        """The lines of a sales order as booked: one read expanding the order's `order_details` navigation."""
        order = self.http.json("GET", f"{API}/{key_path('salesorders', external_id)}", params={
            "$select": KEY, "$expand": "order_details($select=erphub_sku,quantity,priceperunit)"},
            record=f"salesorders/{external_id}") or {}
        return [{"sku": line.get("erphub_sku"), "quantity": line.get("quantity") or 0,
                 "rate": line.get("priceperunit") or 0} for line in order.get("order_details") or []]

    def invoice_lines(self, external_id: str) -> list[dict[str, Any]]:
        """An invoice's lines as posted (reconciliation): one read expanding its `invoice_details` navigation."""
        invoice = self.http.json("GET", f"{API}/{key_path('invoices', external_id)}", params={
            "$select": KEY, "$expand": "invoice_details($select=erphub_sku,quantity,priceperunit)"},
            record=f"invoices/{external_id}") or {}
        return [{"sku": line.get("erphub_sku"), "quantity": line.get("quantity") or 0,
                 "rate": line.get("priceperunit") or 0} for line in invoice.get("invoice_details") or []]

    def payment_amount(self, external_id: str) -> Decimal:
        """A payment's amount as the ERP holds it (the hub's erphub_payment table; reconciliation of payments)."""
        payment = self.http.json("GET", f"{API}/{key_path('erphub_payments', external_id)}",
                                 params={"$select": "erphub_amount"}, record=f"erphub_payments/{external_id}") or {}
        return Decimal(str(payment.get("erphub_amount") or 0))

    def get_record(self, entity_set: str, external_id: str, column: str = KEY) -> dict[str, Any]:
        return self.http.json("GET", f"{API}/{key_path(entity_set, external_id, column)}")

    def concurrency_limit(self) -> int | None:
        return None  # Dataverse publishes no account limit; it answers 429 + Retry-After instead
