"""NetSuite ERP through the REST record service (/services/rest/record/v1), signed with token-based
authentication (OAuth 1.0a, HMAC-SHA256, realm = account id).

Every write is an upsert by external id (`PUT /record/v1/<type>/eid:<externalId>`), so a retried or
resumed step never books a second record. NetSuite refuses requests over the account's concurrency limit;
that refusal is RateLimited, and `concurrency_limit()` reads the limit from the governanceLimits operation.

Secret (NETSUITE_SECRET_NAME): {"account_id", "consumer_key", "consumer_secret", "token_id", "token_secret"}.
Base URL (NETSUITE_BASE_URL): https://<account>.suitetalk.api.netsuite.com
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from erphub.connectors import oauth1
from erphub.connectors.base import Connector, external_key
from erphub.connectors.http import HttpClient, VendorError, json_or_none, parse_retry_after
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
from erphub.errors import HubError, NotFound, RateLimited, ValidationFailed

RECORD = "/services/rest/record/v1"
GOVERNANCE = "/services/rest/system/v1/governanceLimits"
FORECAST_RECORD = "customrecord_erphub_forecast"
# codes NetSuite uses when a request is refused for concurrency (REST answers 429; RESTlets 400)
LIMIT_CODES = {"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "WS_REQUEST_BLOCKED",
               "REQUEST_LIMIT_EXCEEDED"}
ORDER_STATUS_CANCELLED = "C"
# the line fields a close resends: NetSuite closes an order by closing its lines, not by writing its status
LINE_FIELDS = ("item", "quantity", "rate", "description", "taxCode", "revRecStartDate", "revRecEndDate")


def parse_error(response: requests.Response) -> VendorError:
    """{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode", ...}]}"""
    body = json_or_none(response)
    if isinstance(body, dict) and body.get("o:errorDetails"):
        first = body["o:errorDetails"][0]
        return VendorError(str(first.get("detail", "")), str(first.get("o:errorCode", "")))
    if isinstance(body, dict):
        return VendorError(str(body.get("title") or response.reason), "")
    return VendorError(response.text[:300] or response.reason)


def classify(response: requests.Response, vendor: VendorError) -> HubError | None:
    if vendor.code in LIMIT_CODES or response.status_code == 429:
        return RateLimited(f"netsuite {response.status_code} {vendor.code}: {vendor.message}",
                           retry_after=parse_retry_after(response.headers.get("Retry-After")), system="netsuite")
    return None


def _ref(external_id: str | None) -> dict[str, str] | None:
    return {"externalId": external_id} if external_id else None


def _lines(lines: list[OrderLine]) -> dict[str, Any]:
    items = []
    for line in lines:
        item: dict[str, Any] = {"item": {"externalId": line.sku}, "quantity": float(line.quantity),
                                "rate": float(line.rate)}
        if line.description:
            item["description"] = line.description
        if line.tax_code:
            item["taxCode"] = {"refName": line.tax_code}
        if line.rev_rec_start:
            item["revRecStartDate"] = line.rev_rec_start.isoformat()
        if line.rev_rec_end:
            item["revRecEndDate"] = line.rev_rec_end.isoformat()
        items.append(item)
    return {"items": items}


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


class NetSuiteErp(Connector):
    system = "netsuite"
    _subsidiaries: dict[str, str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subsidiaries = {}  # subsidiary name -> internal id; subsidiaries are configuration, stable

    def make_client(self) -> HttpClient:
        fields = ("account_id", "consumer_key", "consumer_secret", "token_id", "token_secret")
        self.secret(*fields)

        def sign(method: str, url: str, params: Any) -> dict[str, str]:
            creds = oauth1.TokenCredentials(*self.secret(*fields))  # a re-read (rotated) token applies at once
            return {"Authorization": oauth1.authorization_header(creds, method, url, params)}

        return self.client(auth=sign, error_parser=parse_error, classify=classify)

    # --- upserts by external id ----------------------------------------------------------------
    def _upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> RecordRef:
        path = f"{RECORD}/{record_type}/eid:{quote(external_id, safe='')}"
        response = self.http.request("PUT", path, json=_clean(body), record=f"{record_type}/{external_id}",
                                     headers={"Content-Type": "application/json"})
        location = response.headers.get("Location", "")
        internal_id = location.rstrip("/").rsplit("/", 1)[-1] if location else external_id
        return RecordRef(system=self.system, kind=record_type, id=internal_id, external_id=external_id)

    def _patch(self, record_type: str, external_id: str, body: dict[str, Any],
               params: dict[str, str] | None = None) -> None:
        path = f"{RECORD}/{record_type}/eid:{quote(external_id, safe='')}"
        self.http.request("PATCH", path, json=body, params=params, record=f"{record_type}/{external_id}",
                          headers={"Content-Type": "application/json"})

    def _subsidiary(self, name: str | None) -> dict[str, str] | None:
        """NetSuite references a subsidiary by its internal id; the deal names it, so the id is looked up once."""
        if not name:
            return None
        if name.isdigit():
            return {"id": name}
        if name not in self._subsidiaries:
            found = self.http.json("GET", f"{RECORD}/subsidiary", params={"q": f'name IS "{name}"'}) or {}
            items = found.get("items") or []
            if not items:
                raise ValidationFailed(f"netsuite has no subsidiary named {name}", system=self.system, record=name)
            self._subsidiaries[name] = str(items[0]["id"])
        return {"id": self._subsidiaries[name]}

    def _internal_id(self, record_type: str, external_id: str) -> str | None:
        try:
            return str(self.get_record(record_type, external_id)["id"])
        except NotFound:
            return None

    def upsert_customer(self, customer: ErpCustomer) -> RecordRef:
        return self._upsert("customer", customer.external_id, {
            "companyName": customer.name,
            "email": customer.email,
            "subsidiary": self._subsidiary(customer.subsidiary),
            "currency": {"refName": customer.currency} if customer.currency else None,
            "vatRegNumber": customer.tax_id,
        })

    def _order_body(self, order: SalesOrder) -> dict[str, Any]:
        return {
            "entity": _ref(order.customer_external_id),
            "currency": {"refName": order.currency},
            "subsidiary": self._subsidiary(order.subsidiary),
            "tranDate": order.tran_date.isoformat() if order.tran_date else None,
            "billingSchedule": {"refName": order.billing_schedule} if order.billing_schedule else None,
            "memo": order.memo,
            "otherRefNum": order.contract_id,
            "item": _lines(order.lines),
        }

    def create_sales_order(self, order: SalesOrder, *, idempotency_key: str) -> RecordRef:
        return self._upsert("salesOrder", external_key(idempotency_key), self._order_body(order))

    def amend_sales_order(self, external_id: str, order: SalesOrder) -> RecordRef:
        # replace=item swaps the whole item sublist instead of appending lines
        self._patch("salesOrder", external_id, _clean(self._order_body(order)), params={"replace": "item"})
        return RecordRef(system=self.system, kind="salesOrder", id=external_id, external_id=external_id)

    def close_sales_order(self, external_id: str) -> None:
        """Closed = every line closed; NetSuite then shows the order as Closed (its status is not writable)."""
        order = self.http.json("GET", f"{RECORD}/salesOrder/eid:{quote(external_id, safe='')}",
                               params={"expandSubResources": "true"}, record=f"salesOrder/{external_id}")
        lines = [{**{k: line[k] for k in LINE_FIELDS if k in line}, "isClosed": True}
                 for line in (order.get("item") or {}).get("items") or []]
        self._patch("salesOrder", external_id, {"item": {"items": lines}}, params={"replace": "item"})

    def void_sales_order(self, external_id: str) -> None:
        self._patch("salesOrder", external_id, {"orderStatus": {"id": ORDER_STATUS_CANCELLED}})

    def _create_from(self, source_type: str, source_external_id: str | None, record_type: str, external_id: str,
                     body: dict[str, Any]) -> RecordRef:
        """A record made from another (invoice from order, credit memo from invoice) is a transform, once; a
        retry finds it by external id and updates it (createdFrom cannot be written on an update)."""
        source_id = self._internal_id(source_type, source_external_id) if source_external_id else None
        if source_id is None or self._internal_id(record_type, external_id) is not None:
            return self._upsert(record_type, external_id, body)
        path = f"{RECORD}/{source_type}/{source_id}/!transform/{record_type}"
        response = self.http.request("POST", path, json=_clean({**body, "externalId": external_id}),
                                     headers={"Content-Type": "application/json"},
                                     record=f"{record_type}/{external_id}")
        location = response.headers.get("Location", "")
        return RecordRef(system=self.system, kind=record_type, external_id=external_id,
                         id=location.rstrip("/").rsplit("/", 1)[-1] if location else external_id)

    def post_invoice(self, invoice: ErpInvoice, *, idempotency_key: str) -> RecordRef:
        return self._create_from("salesOrder", invoice.sales_order_external_id, "invoice",
                                 external_key(idempotency_key), {
            "entity": _ref(invoice.customer_external_id),
            "currency": {"refName": invoice.currency},
            "tranDate": invoice.tran_date.isoformat() if invoice.tran_date else None,
            "dueDate": invoice.due_date.isoformat() if invoice.due_date else None,
            "memo": invoice.memo,
            "item": _lines(invoice.lines),
        })

    def post_payment(self, payment: ErpPayment, *, idempotency_key: str) -> RecordRef:
        # apply lines are keyed by the invoice's internal id (doc), as the customerPayment apply sublist is
        invoice_id = self._internal_id("invoice", payment.invoice_external_id) if payment.invoice_external_id else None
        if payment.invoice_external_id and invoice_id is None:
            raise NotFound(f"invoice {payment.invoice_external_id} is not in netsuite", system=self.system,
                           record=payment.invoice_external_id)
        apply = ({"items": [{"doc": {"id": invoice_id}, "apply": True, "amount": float(payment.amount)}]}
                 if invoice_id else None)
        return self._upsert("customerPayment", external_key(idempotency_key), {
            "customer": _ref(payment.customer_external_id),
            "payment": float(payment.amount),
            "currency": {"refName": payment.currency},
            "tranDate": payment.tran_date.isoformat() if payment.tran_date else None,
            "memo": payment.memo,
            "apply": apply,
        })

    def issue_credit_memo(self, memo: CreditMemo, *, idempotency_key: str) -> RecordRef:
        return self._create_from("invoice", memo.invoice_external_id, "creditMemo", external_key(idempotency_key), {
            "entity": _ref(memo.customer_external_id),
            "currency": {"refName": memo.currency},
            "memo": memo.reason,
            "item": _lines(memo.lines),
        })

    def update_forecast(self, forecast: Forecast) -> RecordRef:
        return self._upsert(FORECAST_RECORD, forecast.external_id, {
            "name": f"{forecast.customer_external_id} {forecast.period}",
            "custrecord_erphub_customer": _ref(forecast.customer_external_id),
            "custrecord_erphub_period": forecast.period,
            "custrecord_erphub_amount": float(forecast.amount),
            "custrecord_erphub_currency": forecast.currency,
            "custrecord_erphub_probability": float(forecast.probability or Decimal(0)) or None,
        })

    def invoice_lines(self, external_id: str) -> list[dict[str, Any]]:
        """An invoice's item lines as posted (reconciliation), read as the sales order's are."""
        lines = (self.get_record("invoice", external_id).get("item") or {}).get("items") or []
        return [{"sku": (line.get("item") or {}).get("externalId"), "quantity": line.get("quantity", 0),
                 "rate": line.get("rate", 0)} for line in lines]

    def payment_amount(self, external_id: str) -> Decimal:
        """A customer payment's amount as the ERP holds it (reconciliation of payments)."""
        return Decimal(str(self.get_record("customerPayment", external_id).get("payment") or 0))

    def get_record(self, record_type: str, external_id: str) -> dict[str, Any]:
        return self.http.json("GET", f"{RECORD}/{record_type}/eid:{quote(external_id, safe='')}",
                              record=f"{record_type}/{external_id}")

    def concurrency_limit(self) -> int | None:
        """The limit this integration may use: its own allocation if it has one, else the account's."""
        body = self.http.json("GET", GOVERNANCE) or {}
        for key in ("integrationConcurrencyLimit", "accountConcurrencyLimit", "unallocatedConcurrencyLimit"):
            if body.get(key) is not None:
                return int(body[key])
        return None
