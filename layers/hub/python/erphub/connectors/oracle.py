"""Oracle Fusion Cloud ERP through its REST resources (REST-Framework-Version 4), as an integration user (basic).

Customers are CX accounts upserted (`Upsert-Mode: true`) by source system reference and addressed by PartyNumber;
sales orders are Order Management's salesOrdersForOrderHub (OrderKey SourceTransactionSystem:SourceTransactionId),
revised by PATCH of their lines, a dropped, closed or voided line cancelled with a CancelReason; receivables
invoices, standard receipts (matched by remittance reference) and credit memos are found by number before a create;
forecasts go to the integration's Application Composer object ErphubForecast_c.

Secret (ORACLE_SECRET_NAME): {"username", "password"}, optionally "business_units" ({subsidiary: business unit}),
"business_unit", "transaction_source", "transaction_type", "credit_memo_type", "receipt_method", "close_reason",
"void_reason" (defaults in docs/deploy.md). Base URL (ORACLE_BASE_URL): https://<pod>.fa.<region>.oraclecloud.com
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from erphub.connectors.base import Connector, external_key, short_key
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
from erphub.errors import HubError, NotFound, Permanent, RateLimited

CRM = "/crmRestApi/resources/11.13.18.05"
FSCM = "/fscmRestApi/resources/11.13.18.05"
SOURCE = "ERPHUB"
HEADERS = {"REST-Framework-Version": "4", "Content-Type": "application/vnd.oracle.adf.resourceitem+json"}


def parse_error(response: requests.Response) -> VendorError:
    """{"title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}; older framework versions: plain text."""
    body = json_or_none(response)
    if isinstance(body, dict) and body.get("o:errorDetails"):
        first = body["o:errorDetails"][0]
        return VendorError(str(first.get("detail", "")), str(first.get("o:errorCode") or ""))
    if isinstance(body, dict):
        return VendorError(str(body.get("detail") or body.get("title") or response.reason))
    return VendorError((response.text or response.reason or "")[:300])


def classify(response: requests.Response, vendor: VendorError) -> HubError | None:
    if response.status_code == 503 and response.headers.get("Retry-After"):
        return RateLimited(f"oracle 503 {vendor.code}: {vendor.message}".strip(),
                           retry_after=parse_retry_after(response.headers.get("Retry-After")), system="oracle")
    return None


def q(**fields: str) -> str:
    """Oracle's query-by-example filter: Field='value';Other='value' (quotes doubled)."""
    return ";".join(f"{name}='{value.replace(chr(39), chr(39) * 2)}'" for name, value in fields.items())


def number(value: Decimal) -> float:
    return float(value)


class OracleErp(Connector):
    system = "oracle"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parties: dict[str, str] = {}  # our customer key -> PartyNumber (stable once created)

    def make_client(self) -> HttpClient:
        self.secret("username", "password")

        def auth(method: str, url: str, params: Any) -> dict[str, str]:
            user, password = self.secret("username", "password")
            return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

        return self.client(auth=auth, error_parser=parse_error, classify=classify)

    def option(self, name: str, default: str) -> str:
        return str(self.credentials.get(name) or default)

    # --- requests -------------------------------------------------------------------------------
    def _find(self, resource: str, expand: str = "", **fields: str) -> dict[str, Any] | None:
        params = {"q": q(**fields), "limit": "1", "onlyData": "true"}
        if expand:
            params["expand"] = expand
        body = self.http.json("GET", resource, params=params, headers=HEADERS, record=params["q"]) or {}
        items = body.get("items") or []
        return items[0] if items else None

    def _create(self, resource: str, body: dict[str, Any], record: str, upsert: bool = False) -> requests.Response:
        headers = {**HEADERS, "Upsert-Mode": "true"} if upsert else HEADERS
        # an upsert is safe to repeat; a plain create is retried by the caller's lookup, never in-call
        return self.http.request("POST", resource, json=body, headers=headers, record=record,
                                 idempotency_key=record if upsert else None)

    def _business_unit(self, subsidiary: str | None) -> str:
        units = self.credentials.get("business_units") or {}
        unit = (units.get(subsidiary) if isinstance(units, dict) and subsidiary else None) or subsidiary
        unit = unit or self.credentials.get("business_unit")
        if not unit:
            raise Permanent("oracle needs a business unit: no subsidiary and no business_unit in the secret",
                            system=self.system)
        return str(unit)

    # --- customers ------------------------------------------------------------------------------
    def upsert_customer(self, customer: ErpCustomer) -> RecordRef:
        body = {"OrganizationName": customer.name[:360], "SourceSystem": SOURCE,
                "SourceSystemReferenceValue": customer.external_id, "Type": "ZA_CUSTOMER",
                "CurrencyCode": customer.currency, "EmailAddress": customer.email,
                "TaxpayerIdentificationNumber": customer.tax_id}
        response = self._create(f"{CRM}/accounts", {k: v for k, v in body.items() if v is not None},
                                customer.external_id, upsert=True)
        party = str((json_or_none(response) or {}).get("PartyNumber") or "")
        if not party:
            raise Permanent(f"oracle returned no PartyNumber for {customer.external_id}", system=self.system)
        self._parties[customer.external_id] = party
        return RecordRef(system=self.system, kind="account", id=party, external_id=customer.external_id,
                         created=response.status_code == 201)

    def _party(self, customer_external_id: str) -> str:
        if customer_external_id not in self._parties:
            found = self._find(f"{CRM}/accounts", SourceSystem=SOURCE, SourceSystemReferenceValue=customer_external_id)
            if found is None:
                raise NotFound(f"customer {customer_external_id} is not in oracle", system=self.system,
                               record=customer_external_id)
            self._parties[customer_external_id] = str(found["PartyNumber"])
        return self._parties[customer_external_id]

    # --- sales orders ---------------------------------------------------------------------------
    def _line(self, line_id: int, line: OrderLine) -> dict[str, Any]:
        return {"SourceTransactionLineId": str(line_id), "SourceTransactionLineNumber": str(line_id),
                "SourceTransactionScheduleId": str(line_id), "SourceScheduleNumber": "1",
                "ProductNumber": line.sku, "OrderedQuantity": number(line.quantity), "OrderedUOMCode": "Ea",
                "UnitSellingPrice": number(line.rate), "TransactionCategoryCode": "ORDER"}

    def _order_path(self, key: str) -> str:
        return f"{FSCM}/salesOrdersForOrderHub/{SOURCE}:{quote(key, safe='')}"

    def _order(self, key: str) -> dict[str, Any]:
        found = self._find(f"{FSCM}/salesOrdersForOrderHub", "lines", SourceTransactionSystem=SOURCE,
                           SourceTransactionId=key)
        if found is None:
            raise NotFound(f"sales order {key} is not in oracle", system=self.system, record=key)
        return found

    def create_sales_order(self, order: SalesOrder, *, idempotency_key: str) -> RecordRef:
        # the order key in a URL is <system>:<id>, so the id itself carries no colon
        key = short_key(external_key(idempotency_key).replace(":", "-"), 50)
        found = self._find(f"{FSCM}/salesOrdersForOrderHub", SourceTransactionSystem=SOURCE, SourceTransactionId=key)
        if found is None:
            unit = self._business_unit(order.subsidiary)
            found = json_or_none(self._create(f"{FSCM}/salesOrdersForOrderHub", {
                "SourceTransactionSystem": SOURCE, "SourceTransactionId": key, "SourceTransactionNumber": key,
                "BusinessUnitName": unit, "RequestingBusinessUnitName": unit,
                "BuyingPartyNumber": self._party(order.customer_external_id),
                "TransactionalCurrencyCode": order.currency, "TransactionOn": (order.tran_date or date.today())
                .isoformat(), "CustomerPONumber": (order.contract_id or "")[:50], "FreezePriceFlag": True,
                "SubmittedFlag": True, "lines": [self._line(n, line) for n, line in enumerate(order.lines, 1)]},
                key)) or {}
        return RecordRef(system=self.system, kind="sales_order", id=str(found.get("HeaderId") or key),
                         external_id=key)

    def _open_lines(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return [line for line in order.get("lines") or [] if not line.get("CancelReason")]

    def _patch_lines(self, key: str, lines: list[dict[str, Any]]) -> None:
        if lines:
            self.http.request("PATCH", self._order_path(key), json={"lines": lines}, headers=HEADERS, record=key)

    def amend_sales_order(self, external_id: str, order: SalesOrder) -> RecordRef:
        """Lines by product: changed in place, new ones added, dropped ones cancelled."""
        current = self._order(external_id)
        by_product: dict[str, list[dict[str, Any]]] = {}
        for booked in self._open_lines(current):
            by_product.setdefault(booked["ProductNumber"], []).append(booked)
        last = max((int(booked["SourceTransactionLineId"]) for booked in current.get("lines") or []), default=0)
        changes = []
        for line in order.lines:
            matches = by_product.get(line.sku) or []
            if matches:
                changes += self._revision(matches.pop(0), line)
            else:
                last += 1
                changes.append(self._line(last, line))
        changes += self._cancel(rest for lines in by_product.values() for rest in lines)
        self._patch_lines(external_id, changes)
        return RecordRef(system=self.system, kind="sales_order", id=str(current.get("HeaderId") or external_id),
                         external_id=external_id)

    def _revision(self, booked: dict[str, Any], line: OrderLine) -> list[dict[str, Any]]:
        """Only what changed: a quantity of 0 sent on a revision means "cancel" to Order Management, so an
        unchanged zero-quantity line (usage overage, nothing booked up front) is left alone."""
        change: dict[str, Any] = {}
        if Decimal(str(booked.get("OrderedQuantity") or 0)) != line.quantity:
            change["OrderedQuantity"] = number(line.quantity)
        if Decimal(str(booked.get("UnitSellingPrice") or 0)) != line.rate:
            change["UnitSellingPrice"] = number(line.rate)
        return [{"SourceTransactionLineId": booked["SourceTransactionLineId"], **change}] if change else []

    def _cancel(self, lines: Any, reason: str = "") -> list[dict[str, Any]]:
        reason = reason or self.option("close_reason", "CUSTOMER_REQUEST")
        return [{"SourceTransactionLineId": line["SourceTransactionLineId"], "OrderedQuantity": 0,
                 "CancelReason": reason} for line in lines]

    def close_sales_order(self, external_id: str) -> None:
        """Nothing further is fulfilled or billed: every open line is cancelled with the close reason."""
        self._patch_lines(external_id, self._cancel(self._open_lines(self._order(external_id))))

    def void_sales_order(self, external_id: str) -> None:
        lines = self._open_lines(self._order(external_id))
        self._patch_lines(external_id, self._cancel(lines, self.option("void_reason", "ORDER_ENTRY_ERROR")))

    def order_lines(self, external_id: str) -> list[dict[str, Any]]:
        return [{"sku": line["ProductNumber"], "quantity": Decimal(str(line.get("OrderedQuantity") or 0)),
                 "rate": Decimal(str(line.get("UnitSellingPrice") or 0))}
                for line in self._open_lines(self._order(external_id))]

    # --- receivables ----------------------------------------------------------------------------
    def _receivables_unit(self, party: str) -> str:
        """Receivables book in the business unit that sells to the customer (its latest order), else the secret's."""
        order = self._find(f"{FSCM}/salesOrdersForOrderHub", BuyingPartyNumber=party)
        return str(order["BusinessUnitName"]) if order else self._business_unit(None)

    def _transaction(self, resource: str, lines_field: str, key: str, party: str, currency_field: str,
                     currency: str, lines: list[OrderLine], sign: int, extra: dict[str, Any]) -> dict[str, Any]:
        found = self._find(f"{FSCM}/{resource}", TransactionNumber=key)
        if found is not None:
            return found
        body = {"BusinessUnit": self._receivables_unit(party), "TransactionSource": self.option(
                    "transaction_source", SOURCE), "TransactionNumber": key, "BillToCustomerNumber": party,
                currency_field: currency, **extra,
                lines_field: [{"LineNumber": n, "ItemNumber": line.sku, "Description": (line.description or line.sku)
                               [:240], "Quantity": number(line.quantity) * sign, "UnitSellingPrice": number(line.rate)}
                              for n, line in enumerate(lines, 1)]}
        return json_or_none(self._create(f"{FSCM}/{resource}", body, key)) or {}

    def post_invoice(self, invoice: ErpInvoice, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), 20)
        found = self._transaction("receivablesInvoices", "receivablesInvoiceLines", key,
                                  self._party(invoice.customer_external_id), "InvoiceCurrencyCode", invoice.currency,
                                  invoice.lines, 1, {
                                      "TransactionType": self.option("transaction_type", "Invoice"),
                                      "TransactionDate": (invoice.tran_date or date.today()).isoformat(),
                                      **({"DueDate": invoice.due_date.isoformat()} if invoice.due_date else {})})
        return RecordRef(system=self.system, kind="receivables_invoice",
                         id=str(found.get("CustomerTransactionId") or key), external_id=key)

    def issue_credit_memo(self, memo: CreditMemo, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), 20)
        found = self._transaction("receivablesCreditMemos", "receivablesCreditMemoLines", key,
                                  self._party(memo.customer_external_id), "CreditMemoCurrencyCode", memo.currency,
                                  memo.lines, -1, {"TransactionType": self.option("credit_memo_type", "Credit Memo"),
                                                   "TransactionDate": date.today().isoformat()})
        return RecordRef(system=self.system, kind="receivables_credit_memo",
                         id=str(found.get("CustomerTransactionId") or key), external_id=key)

    def post_payment(self, payment: ErpPayment, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), 30)
        invoice = payment.invoice_external_id
        if invoice and self._find(f"{FSCM}/receivablesInvoices", TransactionNumber=invoice) is None:
            raise NotFound(f"invoice {invoice} is not in oracle", system=self.system, record=invoice)
        found = self._find(f"{FSCM}/standardReceipts", ReceiptNumber=key)
        if found is None:
            party = self._party(payment.customer_external_id)
            body: dict[str, Any] = {
                "ReceiptNumber": key, "BusinessUnit": self._receivables_unit(party),
                "ReceiptMethod": self.option("receipt_method", SOURCE), "ReceiptDate": (
                    payment.tran_date or date.today()).isoformat(), "Amount": number(payment.amount),
                "Currency": payment.currency, "CustomerAccountNumber": party}
            if invoice:
                body["remittanceReferences"] = [{"ReceiptMatchBy": "Transaction Number", "ReferenceNumber": invoice,
                                                 "ReferenceAmount": number(payment.amount)}]
            found = json_or_none(self._create(f"{FSCM}/standardReceipts", body, key)) or {}
        return RecordRef(system=self.system, kind="standard_receipt", id=str(found.get("StandardReceiptId") or key),
                         external_id=key)

    def update_forecast(self, forecast: Forecast) -> RecordRef:
        body = {"Period_c": forecast.period, "Amount_c": number(forecast.amount), "CurrencyCode": forecast.currency,
                "Probability_c": number(forecast.probability or Decimal(0))}
        found = self._find(f"{CRM}/ErphubForecast_c", RecordName=forecast.external_id)
        if found is not None:
            self.http.request("PATCH", f"{CRM}/ErphubForecast_c/{found['Id']}", json=body, headers=HEADERS,
                              record=forecast.external_id)
        else:
            found = json_or_none(self._create(f"{CRM}/ErphubForecast_c", {
                "RecordName": forecast.external_id, "Customer_c": self._party(forecast.customer_external_id),
                **body}, forecast.external_id)) or {}
        return RecordRef(system=self.system, kind="forecast", id=str(found.get("Id") or forecast.external_id),
                         external_id=forecast.external_id)

    def concurrency_limit(self) -> int | None:
        return None  # Oracle publishes no fixed concurrency figure; it throttles with 429 (and 503) + Retry-After
