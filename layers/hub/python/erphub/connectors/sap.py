"""SAP S/4HANA Cloud through its OData V2 A2X APIs as a communication user (basic auth, the inbound authentication
these APIs document), with SAP Gateway's CSRF handshake and ETag preconditions.

- customers: business partners (API_BUSINESS_PARTNER, organization, roles FLCU00/FLCU01, a customer sales area),
  found again by BusinessPartnerIDByExtSystem (our key fitted into its 20 characters);
- sales orders (API_SALES_ORDER_SRV): one deep insert, items priced by PR00, found again by PurchaseOrderByCustomer
  (35 characters); changed item by item under If-Match; closed or voided by a rejection reason on every item;
- invoices: debit memo requests (API_DEBIT_MEMO_REQUEST_SRV), which SAP's billing turns into billing documents
  (API_BILLING_DOCUMENT_SRV only reads and cancels; billing document requests are created only by SOAP);
- credit memos: credit memo requests; payments and forecasts: the integration's custom business objects
  YY1_ERPHUBPAYMENT / YY1_ERPHUBFORECAST (no A2X OData API posts an incoming payment).

Secret (SAP_SECRET_NAME): {"username", "password"}, optionally "distribution_channel" ("10"), "division" ("00"),
"sales_organization" (when a legal entity names none), "order_type" ("OR"), "credit_memo_type" ("CR"),
"debit_memo_type" ("L2"), "quantity_unit" ("EA"), "close_reason" / "void_reason" (rejection reasons, "10" / "50").
Base URL (SAP_BASE_URL): https://my<tenant>-api.s4hana.cloud.sap
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from erphub.connectors.base import Connector, external_key, short_key
from erphub.connectors.http import HttpClient, json_or_none
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
from erphub.connectors.sap_odata import (
    ODATA,
    Changed,
    CsrfRejected,
    CsrfTokens,
    amount,
    classify,
    entity,
    entity_key,
    eq_filter,
    parse_error,
    price_condition,
    results,
)
from erphub.errors import NotFound, Permanent, Transient

BP = f"{ODATA}/API_BUSINESS_PARTNER"
SO = f"{ODATA}/API_SALES_ORDER_SRV"
DMR = f"{ODATA}/API_DEBIT_MEMO_REQUEST_SRV"
CMR = f"{ODATA}/API_CREDIT_MEMO_REQUEST_SRV"
PAYMENT = f"{ODATA}/YY1_ERPHUBPAYMENT_CDS"
FORECAST = f"{ODATA}/YY1_ERPHUBFORECAST_CDS"
UPDATE_ATTEMPTS = 3  # a PATCH refused because the record changed since it was read: read again, change again
PARTNER_KEY, REFERENCE_KEY = 20, 35  # BusinessPartnerIDByExtSystem, PurchaseOrderByCustomer


class SapErp(Connector):
    system = "sap"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.csrf = CsrfTokens()
        # our customer key -> (business partner number, its sales organization): stable once created
        self._partners: dict[str, tuple[str, str]] = {}

    def make_client(self) -> HttpClient:
        self.secret("username", "password")

        def auth(method: str, url: str, params: Any) -> dict[str, str]:
            user, password = self.secret("username", "password")  # a re-read (rotated) password applies at once
            headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
            if method not in ("GET", "HEAD"):
                headers["x-csrf-token"] = self.csrf.token(client, url)
            return headers

        def reauthenticate() -> None:
            self.reread_credentials()
            self.csrf.invalidate()  # the token belongs to the refused session
            client.session.cookies.clear()

        client = self.client(auth=auth, error_parser=parse_error, classify=classify, reauthenticate=reauthenticate)
        return client

    def option(self, name: str, default: str) -> str:
        return str(self.credentials.get(name) or default)

    # --- requests -------------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a refused CSRF token is fetched anew once (it expires with SAP's session)."""
        try:
            return self.http.request(method, path, **kwargs)
        except CsrfRejected:
            self.csrf.invalidate()
        try:
            return self.http.request(method, path, **kwargs)
        except CsrfRejected as exc:
            raise Permanent(exc.reason, system=self.system, record=kwargs.get("record", "")) from exc

    def _find(self, service: str, entity_set: str, field: str, value: str, expand: str = "") -> dict[str, Any] | None:
        params = {"$filter": eq_filter(field, value), "$top": "1"}
        if expand:
            params["$expand"] = expand
        found = results(json_or_none(self._send("GET", f"{service}/{entity_set}", params=params, record=value)))
        return found[0] if found else None

    def _create(self, service: str, entity_set: str, body: dict[str, Any], record: str) -> dict[str, Any]:
        created = entity(json_or_none(self._send("POST", f"{service}/{entity_set}", json=body, record=record)))
        if not created:  # a 2xx without the entity: whether it was created is unknown, the next lookup will tell
            raise Transient(f"sap created {entity_set} {record} without returning it", system=self.system,
                            record=record)
        return created

    def _update(self, service: str, path: str, record: dict[str, Any], body: dict[str, Any],
                reread: Callable[[], dict[str, Any] | None]) -> None:
        """PATCH with the ETag the entity was read with. SAP refuses (412) a change to a record that changed since
        (another step on the same customer or order): each change here is absolute (a name, a quantity, a reason),
        so it is made again on the record as `reread` finds it now, up to UPDATE_ATTEMPTS times (NotFound if it
        is gone)."""
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            etag = str((record.get("__metadata") or {}).get("etag") or "")
            try:
                self._send("PATCH", f"{service}/{path}", json=body, headers={"If-Match": etag}, record=path)
                return
            except Changed:
                if attempt == UPDATE_ATTEMPTS:
                    raise
            found = reread()
            if found is None:
                raise NotFound(f"{path} changed and is no longer in sap", system=self.system, record=path)
            record = found

    def _area(self, subsidiary: str | None) -> dict[str, str]:
        organization = subsidiary if subsidiary and len(subsidiary) <= 4 else self.option("sales_organization", "")
        if not organization:
            raise Permanent("sap needs a sales organization: the legal entity names none and the secret has no "
                            "sales_organization", system=self.system)
        return {"SalesOrganization": organization, "DistributionChannel": self.option("distribution_channel", "10"),
                "OrganizationDivision": self.option("division", "00")}

    # --- customers ------------------------------------------------------------------------------
    def upsert_customer(self, customer: ErpCustomer) -> RecordRef:
        key = short_key(customer.external_id, PARTNER_KEY)
        found = self._find(BP, "A_BusinessPartner", "BusinessPartnerIDByExtSystem", key)
        if found is not None:
            self._update(BP, entity_key("A_BusinessPartner", id=found["BusinessPartner"]), found,
                         {"OrganizationBPName1": customer.name[:40]},
                         lambda: self._find(BP, "A_BusinessPartner", "BusinessPartnerIDByExtSystem", key))
            number, created = str(found["BusinessPartner"]), False
        else:
            area = self._area(customer.subsidiary)
            body: dict[str, Any] = {
                "BusinessPartnerCategory": "2", "BusinessPartnerIDByExtSystem": key,
                "OrganizationBPName1": customer.name[:40], "SearchTerm1": customer.name[:20].upper(),
                "to_BusinessPartnerRole": [{"BusinessPartnerRole": "FLCU00"}, {"BusinessPartnerRole": "FLCU01"}],
                "to_Customer": {"to_CustomerSalesArea": [{
                    "SalesOrganization": area["SalesOrganization"], "DistributionChannel": area["DistributionChannel"],
                    "Division": area["OrganizationDivision"], "Currency": customer.currency or "USD"}]}}
            if customer.country:
                body["to_BusinessPartnerAddress"] = [{"Country": customer.country}]
            number, created = str(self._create(BP, "A_BusinessPartner", body, key)["BusinessPartner"]), True
        if created:
            self._partners[customer.external_id] = (number, area["SalesOrganization"])
        return RecordRef(system=self.system, kind="business_partner", id=number, external_id=customer.external_id,
                         created=created)

    def _sold_to(self, customer_external_id: str) -> tuple[str, str]:
        """(business partner, the sales organization of its customer sales area); NotFound until it is in SAP."""
        if customer_external_id not in self._partners:
            found = self._find(BP, "A_BusinessPartner", "BusinessPartnerIDByExtSystem",
                               short_key(customer_external_id, PARTNER_KEY), "to_Customer/to_CustomerSalesArea")
            if found is None:
                raise NotFound(f"customer {customer_external_id} is not in sap", system=self.system,
                               record=customer_external_id)
            areas = results({"d": (found.get("to_Customer") or {}).get("to_CustomerSalesArea")})
            self._partners[customer_external_id] = (str(found["BusinessPartner"]),
                                                    str(areas[0]["SalesOrganization"]) if areas else "")
        return self._partners[customer_external_id]

    # --- sales orders ---------------------------------------------------------------------------
    def _item(self, number: int, line: OrderLine, currency: str, document: str = "SalesOrder") -> dict[str, Any]:
        """An item of a sales order, credit or debit memo request, priced by a PR00 condition."""
        return {f"{document}Item": str(number * 10), "Material": line.sku, "RequestedQuantity": amount(line.quantity),
                "RequestedQuantityUnit": self.option("quantity_unit", "EA"),
                f"{document}ItemText": (line.description or line.sku)[:40],
                "to_PricingElement": [{"ConditionType": "PR00", "ConditionRateValue": amount(line.rate),
                                       "ConditionCurrency": currency}]}

    def _order(self, key: str, expand: bool = True) -> dict[str, Any]:
        found = self._find(SO, "A_SalesOrder", "PurchaseOrderByCustomer", key,
                           "to_Item/to_PricingElement" if expand else "")
        if found is None:
            raise NotFound(f"sales order {key} is not in sap", system=self.system, record=key)
        return found

    def create_sales_order(self, order: SalesOrder, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), REFERENCE_KEY)
        found = self._find(SO, "A_SalesOrder", "PurchaseOrderByCustomer", key)
        if found is None:
            found = self._create(SO, "A_SalesOrder", {
                "SalesOrderType": self.option("order_type", "OR"),
                **self._area(order.subsidiary or self._sold_to(order.customer_external_id)[1]),
                "SoldToParty": self._sold_to(order.customer_external_id)[0], "PurchaseOrderByCustomer": key,
                "TransactionCurrency": order.currency, "AssignmentReference": (order.contract_id or "")[:18],
                "to_Item": [self._item(n, line, order.currency) for n, line in enumerate(order.lines, start=1)]}, key)
        return RecordRef(system=self.system, kind="sales_order", id=str(found["SalesOrder"]), external_id=key,
                         created=None)

    def _items(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return [i for i in results({"d": order.get("to_Item")}) if not i.get("SalesDocumentRjcnReason")]

    def _item_now(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """The order item as SAP has it now (with its pricing elements)."""
        order = self._find(SO, "A_SalesOrder", "SalesOrder", str(item["SalesOrder"]), "to_Item/to_PricingElement")
        return next((i for i in results({"d": (order or {}).get("to_Item")})
                     if i.get("SalesOrderItem") == item["SalesOrderItem"]), None)

    def amend_sales_order(self, external_id: str, order: SalesOrder) -> RecordRef:
        """Items by material: quantities and prices changed in place, new ones added, dropped ones rejected."""
        current = self._order(external_id)
        number, open_items = str(current["SalesOrder"]), self._items(current)
        by_material: dict[str, list[dict[str, Any]]] = {}
        for item in open_items:
            by_material.setdefault(item["Material"], []).append(item)
        last = max((int(i["SalesOrderItem"]) for i in results({"d": current.get("to_Item")})), default=0) // 10
        for line in order.lines:
            matches = by_material.get(line.sku) or []
            if matches:
                self._change_item(matches.pop(0), line)
                continue
            last += 1
            self._send("POST", f"{SO}/{entity_key('A_SalesOrder', id=number)}/to_Item",
                       json=self._item(last, line, order.currency), record=f"{external_id}/{line.sku}")
        for item in (i for rest in by_material.values() for i in rest):
            self._reject(item, self.option("close_reason", "10"))
        return RecordRef(system=self.system, kind="sales_order", id=number, external_id=external_id)

    def _change_item(self, item: dict[str, Any], line: OrderLine) -> None:
        path = entity_key("A_SalesOrderItem", SalesOrder=item["SalesOrder"], SalesOrderItem=item["SalesOrderItem"])
        if Decimal(str(item.get("RequestedQuantity") or 0)) != line.quantity:
            self._update(SO, path, item, {"RequestedQuantity": amount(line.quantity)}, lambda: self._item_now(item))
        price = price_condition(item)
        if price is not None and Decimal(str(price.get("ConditionRateValue") or 0)) != line.rate:
            self._update(SO, entity_key("A_SalesOrderItemPrElement", SalesOrder=price["SalesOrder"],
                                        SalesOrderItem=price["SalesOrderItem"],
                                        PricingProcedureStep=price["PricingProcedureStep"],
                                        PricingProcedureCounter=price["PricingProcedureCounter"]),
                         price, {"ConditionRateValue": amount(line.rate)},
                         lambda: price_condition(self._item_now(item) or {}))

    def _reject(self, item: dict[str, Any], reason: str) -> None:
        path = entity_key("A_SalesOrderItem", SalesOrder=item["SalesOrder"], SalesOrderItem=item["SalesOrderItem"])
        self._update(SO, path, item, {"SalesDocumentRjcnReason": reason}, lambda: self._item_now(item))

    def close_sales_order(self, external_id: str) -> None:
        """Closed: nothing further is delivered or billed, so every open item gets the close rejection reason."""
        for item in self._items(self._order(external_id)):
            self._reject(item, self.option("close_reason", "10"))

    def void_sales_order(self, external_id: str) -> None:
        for item in self._items(self._order(external_id)):
            self._reject(item, self.option("void_reason", "50"))

    def order_lines(self, external_id: str) -> list[dict[str, Any]]:
        """The open items as booked: material, quantity and the PR00 price (rejected items are not booked)."""
        return [{"sku": i["Material"], "quantity": Decimal(str(i.get("RequestedQuantity") or 0)),
                 "rate": Decimal(str((price_condition(i) or {}).get("ConditionRateValue") or 0))}
                for i in self._items(self._order(external_id))]

    # --- invoices, payments, credit memos, forecasts --------------------------------------------
    def post_invoice(self, invoice: ErpInvoice, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), REFERENCE_KEY)
        found = self._find(DMR, "A_DebitMemoRequest", "PurchaseOrderByCustomer", key)
        if found is None:
            partner, organization = self._sold_to(invoice.customer_external_id)
            found = self._create(DMR, "A_DebitMemoRequest", {
                "DebitMemoRequestType": self.option("debit_memo_type", "L2"), **self._area(organization),
                "SoldToParty": partner, "PurchaseOrderByCustomer": key, "TransactionCurrency": invoice.currency,
                "to_Item": [self._item(n, line, invoice.currency, "DebitMemoRequest")
                            for n, line in enumerate(invoice.lines, start=1)]}, key)
        return RecordRef(system=self.system, kind="debit_memo_request", id=str(found["DebitMemoRequest"]),
                         external_id=key)

    def post_payment(self, payment: ErpPayment, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), REFERENCE_KEY)
        if payment.invoice_external_id and self._find(DMR, "A_DebitMemoRequest", "PurchaseOrderByCustomer",
                                                      payment.invoice_external_id) is None:
            raise NotFound(f"invoice {payment.invoice_external_id} is not in sap", system=self.system,
                           record=payment.invoice_external_id)
        found = self._find(PAYMENT, "YY1_ERPHUBPAYMENT", "ExternalID", key) or self._create(
            PAYMENT, "YY1_ERPHUBPAYMENT", {
                "ExternalID": key, "Customer": self._sold_to(payment.customer_external_id)[0],
                "InvoiceReference": payment.invoice_external_id or "", "Amount_V": amount(payment.amount),
                "Amount_C": payment.currency, "Memo": (payment.memo or "")[:80]}, key)
        return RecordRef(system=self.system, kind="payment", id=str(found.get("SAP_UUID") or key), external_id=key)

    def issue_credit_memo(self, memo: CreditMemo, *, idempotency_key: str) -> RecordRef:
        key = short_key(external_key(idempotency_key), REFERENCE_KEY)
        found = self._find(CMR, "A_CreditMemoRequest", "PurchaseOrderByCustomer", key)
        if found is None:
            items = [self._item(n, line, memo.currency, "CreditMemoRequest")
                     for n, line in enumerate(memo.lines, start=1)]
            found = self._create(CMR, "A_CreditMemoRequest", {
                "CreditMemoRequestType": self.option("credit_memo_type", "CR"),
                **self._area(self._sold_to(memo.customer_external_id)[1]),
                "SoldToParty": self._sold_to(memo.customer_external_id)[0], "PurchaseOrderByCustomer": key,
                "TransactionCurrency": memo.currency, "to_Item": items}, key)
        return RecordRef(system=self.system, kind="credit_memo_request", id=str(found["CreditMemoRequest"]),
                         external_id=key)

    def update_forecast(self, forecast: Forecast) -> RecordRef:
        key = short_key(forecast.external_id, REFERENCE_KEY)
        body = {"Period": forecast.period, "Amount_V": amount(forecast.amount), "Amount_C": forecast.currency,
                "Probability": amount(forecast.probability) if forecast.probability is not None else "0"}
        found = self._find(FORECAST, "YY1_ERPHUBFORECAST", "ExternalID", key)
        if found is not None:
            self._update(FORECAST, entity_key("YY1_ERPHUBFORECAST", id=found["SAP_UUID"]), found, body,
                         lambda: self._find(FORECAST, "YY1_ERPHUBFORECAST", "ExternalID", key))
        else:
            found = self._create(FORECAST, "YY1_ERPHUBFORECAST", {
                "ExternalID": key, "Customer": self._sold_to(forecast.customer_external_id)[0], **body}, key)
        return RecordRef(system=self.system, kind="forecast", id=str(found["SAP_UUID"]), external_id=key)

    def concurrency_limit(self) -> int | None:
        return None  # SAP publishes no per-tenant concurrency figure; it answers 429/503 with Retry-After
