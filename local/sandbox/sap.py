"""SAP S/4HANA Cloud OData V2 (business partners, sales orders, debit and credit memo requests, billing documents to
read, the integration's YY1_ custom business objects) as a communication user sees it: basic auth, the CSRF
handshake bound to the session cookie (403 "CSRF token validation failed" otherwise), ETag preconditions (428 without
If-Match, 412 when stale), deep inserts, sold-to parties checked against their sales area, item rejection."""

from __future__ import annotations

import base64
import hmac
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from local.sandbox import sap_odata as odata
from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers

ODATA = ["sap", "opu", "odata", "sap"]
COOKIE = "SAP_SESSIONID_ERP_100"
# entity set -> (service, key field the server numbers, first number); None: a custom business object (SAP_UUID)
SETS: dict[str, tuple[str, str, int | None]] = {
    "A_BusinessPartner": ("API_BUSINESS_PARTNER", "BusinessPartner", 1000100),
    "A_SalesOrder": ("API_SALES_ORDER_SRV", "SalesOrder", 1),
    "A_DebitMemoRequest": ("API_DEBIT_MEMO_REQUEST_SRV", "DebitMemoRequest", 70000001),
    "A_BillingDocument": ("API_BILLING_DOCUMENT_SRV", "BillingDocument", 90100001),
    "A_CreditMemoRequest": ("API_CREDIT_MEMO_REQUEST_SRV", "CreditMemoRequest", 60000001),
    "YY1_ERPHUBPAYMENT": ("YY1_ERPHUBPAYMENT_CDS", "SAP_UUID", None),
    "YY1_ERPHUBFORECAST": ("YY1_ERPHUBFORECAST_CDS", "SAP_UUID", None),
}
SALES_DOCUMENTS = {"A_SalesOrder": "SalesOrder", "A_DebitMemoRequest": "DebitMemoRequest",
                   "A_CreditMemoRequest": "CreditMemoRequest"}
REJECTION_REASONS = {"00", "01", "02", "03", "04", "05", "10", "11", "50"}  # this tenant's configuration


class Sap(Vendor):
    name = "sap"

    def __init__(self) -> None:
        super().__init__()
        self.user, self.password = "ERPHUB_COMM_USER", "sap-sandbox-Passw0rd!"
        self.sessions: dict[str, str] = {}  # session cookie -> its CSRF token

    def credentials(self) -> dict[str, Any]:
        return {"username": self.user, "password": self.password}

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.sessions.clear()

    def expire_sessions(self) -> None:
        """Every session and its CSRF token ends, as after SAP's session timeout."""
        with self.lock:
            self.sessions.clear()

    # --- authentication and the CSRF handshake --------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if not hmac.compare_digest(request.header("authorization"), expected):
            return odata.error(401, "/IWFND/CM_CONSUMER/101", "Logon failed: user or password wrong",
                               {"WWW-Authenticate": 'Basic realm="SAP NetWeaver Application Server [ERP/100]"'})
        if request.method in ("GET", "HEAD"):
            return None
        with self.lock:
            token = self.sessions.get(self._session(request) or "")
        if not token or not hmac.compare_digest(request.header("x-csrf-token"), token):
            return Response(403, b"CSRF token validation failed", {"x-csrf-token": "Required"}, "text/plain")
        return None

    def _session(self, request: Request) -> str | None:
        for part in request.header("cookie").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                return value
        return None

    def _fetch_token(self, request: Request, response: Response) -> Response:
        """x-csrf-token: Fetch on a GET: the session's token (a new session and cookie if it has none)."""
        if request.header("x-csrf-token").lower() != "fetch":
            return response
        with self.lock:
            session = self._session(request)
            if session not in self.sessions:
                session = secrets.token_urlsafe(16)
                self.sessions[session] = secrets.token_urlsafe(18)
                response.headers["Set-Cookie"] = f"{COOKIE}={session}; path=/; HttpOnly"
            response.headers["x-csrf-token"] = self.sessions[session]
        return response

    # --- routing --------------------------------------------------------------------------------
    def route(self, request: Request) -> tuple[str, Callable[[Request], Response]] | None:
        parts = path_parts(request.path)
        if parts[:4] != ODATA or len(parts) < 5:
            return None
        if len(parts) == 5 and request.method == "GET":
            return "csrf.fetch", lambda r: self._fetch_token(r, Response(200, {"d": {"EntitySets": list(SETS)}}))
        keyed = odata.parse_keys(parts[5]) if len(parts) > 5 else None
        entity_set = keyed[0] if keyed else parts[5]
        service = SETS.get(entity_set, (None,))[0] or ("API_SALES_ORDER_SRV" if entity_set.startswith("A_SalesOrder")
                                                       else None)
        if service != parts[4]:
            return None
        handler = self._handler(request.method, entity_set, keyed[1] if keyed else None, parts[6:])
        if handler is None:
            return None
        verb = {"GET": "query" if keyed is None else "get", "POST": "create", "PATCH": "update"}[request.method]
        return f"{entity_set}.{verb}", lambda r: self._fetch_token(r, handler(r))

    def _handler(self, method: str, entity_set: str, keys: dict[str, str] | None,
                 rest: list[str]) -> Callable[[Request], Response] | None:
        if keys is None and not rest:
            if method == "GET" and entity_set in SETS:
                return lambda r: self.query(r, entity_set)
            if method == "POST" and entity_set in SETS and entity_set != "A_BillingDocument":
                return lambda r: self.create(r, entity_set)
            return None
        if keys is not None and rest == ["to_Item"] and method == "POST" and entity_set == "A_SalesOrder":
            return lambda r: self.add_item(r, keys[""])
        if keys is not None and not rest and method == "GET" and entity_set in SETS:
            return lambda r: self.get(r, entity_set, keys)
        if keys is not None and not rest and method == "PATCH":
            return lambda r: self.update(r, entity_set, keys)
        return None

    # --- reads ----------------------------------------------------------------------------------
    def query(self, request: Request, entity_set: str) -> Response:
        with self.lock:
            found = [r for r in self.table(entity_set).values() if odata.matches(r, request.arg("$filter"))]
            top = request.arg("$top")
            return odata.many(found[: int(top)] if top else found, odata.expansions(request.arg("$expand")))

    def get(self, request: Request, entity_set: str, keys: dict[str, str]) -> Response:
        with self.lock:
            record = self.table(entity_set).get(keys.get("") or next(iter(keys.values())))
            if record is None:
                return self._missing(entity_set)
            return odata.one(record, odata.expansions(request.arg("$expand")))

    def _missing(self, entity_set: str) -> Response:
        return odata.error(404, "/IWBEP/CM_MGW_RT/020", f"Resource not found for segment '{entity_set}Type'")

    # --- creates --------------------------------------------------------------------------------
    def create(self, request: Request, entity_set: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return odata.error(400, "/IWBEP/CM_MGW_RT/004", "Malformed payload: a JSON object is expected")
        service, key_field, _ = SETS[entity_set]
        with self.lock:
            refused = self._refuse(entity_set, body)
            if refused is not None:
                return refused
            number = self._next_number(entity_set)
            record = {**body, key_field: number}
            self._stamp_tree(record, service, entity_set, number)
            self.table(entity_set)[number] = record
            return odata.one(record, set(), 201)

    def _next_number(self, entity_set: str) -> str:
        """SAP's number range: the next number after the highest held (so records restored by `erphub up --state`
        keep theirs); custom business objects are keyed by a UUID."""
        start = SETS[entity_set][2]
        if start is None:
            return str(uuid.uuid4())
        return str(max((int(k) + 1 for k in self.table(entity_set)), default=start))

    def _refuse(self, entity_set: str, body: dict[str, Any]) -> Response | None:
        if entity_set == "A_BusinessPartner" and body.get("BusinessPartnerCategory") == "2" \
                and not body.get("OrganizationBPName1"):
            return odata.error(400, "R11/401", "Enter a name for the organization")
        if entity_set in SALES_DOCUMENTS:
            return self._check_sold_to(body)
        return None

    def _check_sold_to(self, body: dict[str, Any]) -> Response | None:
        """A sold-to party must be a customer defined for the document's sales area."""
        partner = self.table("A_BusinessPartner").get(str(body.get("SoldToParty")))
        area = (body.get("SalesOrganization"), body.get("DistributionChannel"), body.get("OrganizationDivision"))
        areas = {(a.get("SalesOrganization"), a.get("DistributionChannel"), a.get("Division"))
                 for a in ((partner or {}).get("to_Customer") or {}).get("to_CustomerSalesArea") or []}
        if area not in areas:
            return odata.error(400, "V1/303", f"Sold-to party {body.get('SoldToParty')} not maintained for sales "
                                              f"area {'/'.join(str(a) for a in area)}")
        return None

    def _stamp_tree(self, record: dict[str, Any], service: str, entity_set: str, number: str) -> None:
        uri = f"{self.base_url}/sap/opu/odata/sap/{service}/{entity_set}('{number}')"
        odata.stamp(record, uri, f"{service}.{entity_set}Type")
        document = SALES_DOCUMENTS.get(entity_set)
        if document is not None:
            record["OverallSDDocumentRejectionSts"] = "A"
            for position, item in enumerate(record.get("to_Item") or [], start=1):
                self._stamp_item(record, item, document, position)
        if entity_set == "A_BusinessPartner" and isinstance(record.get("to_Customer"), dict):
            record["to_Customer"]["Customer"] = number
            for area in record["to_Customer"].get("to_CustomerSalesArea") or []:
                area["Customer"] = number

    def _stamp_item(self, header: dict[str, Any], item: dict[str, Any], document: str, position: int) -> None:
        number, item_field = header[document], f"{document}Item"
        item[document] = number
        item.setdefault(item_field, str(position * 10))
        item.setdefault("SalesDocumentRjcnReason", "")
        service = SETS[f"A_{document}"][0]
        odata.stamp(item, f"{self.base_url}/sap/opu/odata/sap/{service}/A_{document}Item({document}='{number}',"
                          f"{item_field}='{item[item_field]}')", f"{service}.A_{document}ItemType")
        for counter, price in enumerate(item.get("to_PricingElement") or [], start=1):
            price.update({document: number, item_field: item[item_field], "PricingProcedureStep": str(counter * 10),
                          "PricingProcedureCounter": "1"})
            odata.stamp(price, f"{item['__metadata']['uri']}/to_PricingElement",
                        f"{service}.A_{document}ItemPrElementType")

    def add_item(self, request: Request, sales_order: str) -> Response:
        body = request.json()
        with self.lock:
            order = self.table("A_SalesOrder").get(sales_order)
            if order is None:
                return self._missing("A_SalesOrder")
            if any(i["SalesOrderItem"] == str(body.get("SalesOrderItem")) for i in order.get("to_Item") or []):
                return odata.error(400, "V1/041", f"Item {body.get('SalesOrderItem')} already exists")
            item = dict(body)
            order.setdefault("to_Item", []).append(item)
            self._stamp_item(order, item, "SalesOrder", len(order["to_Item"]))
            order["__metadata"]["etag"] = odata.new_etag()
            return odata.one(item, set(), 201)

    # --- updates --------------------------------------------------------------------------------
    def update(self, request: Request, entity_set: str, keys: dict[str, str]) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return odata.error(400, "/IWBEP/CM_MGW_RT/004", "Malformed payload: a JSON object is expected")
        with self.lock:
            header, record = self._locate(entity_set, keys)
            if record is None:
                return self._missing(entity_set)
            refused = odata.precondition(record, request.header("if-match"))
            reason = body.get("SalesDocumentRjcnReason")
            if refused is None and reason and reason not in REJECTION_REASONS:
                refused = odata.error(400, "V1/027", f"Reason for rejection {reason} is not defined")
            if refused is not None:
                return refused
            record.update(body)
            record["__metadata"]["etag"] = odata.new_etag()
            if header is not None and header is not record:
                header["__metadata"]["etag"] = odata.new_etag()
                items = header.get("to_Item") or []
                rejected = sum(1 for i in items if i.get("SalesDocumentRjcnReason"))
                header["OverallSDDocumentRejectionSts"] = "C" if rejected == len(items) else "B" if rejected else "A"
            return Response(204, None, {"ETag": record["__metadata"]["etag"]})

    def _locate(self, entity_set: str, keys: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the sales order a nested entity belongs to, the entity) for a PATCH target."""
        if entity_set in ("A_SalesOrderItem", "A_SalesOrderItemPrElement"):
            order = self.table("A_SalesOrder").get(keys.get("SalesOrder", ""))
            item = next((i for i in (order or {}).get("to_Item") or []
                         if i.get("SalesOrderItem") == keys.get("SalesOrderItem")), None)
            if entity_set == "A_SalesOrderItem" or item is None:
                return order, item
            return order, next((p for p in item.get("to_PricingElement") or []
                                if p.get("PricingProcedureStep") == keys.get("PricingProcedureStep")
                                and p.get("PricingProcedureCounter") == keys.get("PricingProcedureCounter")), None)
        if entity_set in SETS:
            return None, self.table(entity_set).get(keys.get("") or next(iter(keys.values())))
        return None, None

    # --- the vendor's refusals --------------------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return odata.error(404, "/IWFND/MED/170", f"No service found for namespace '', name '{request.path}'")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return odata.error(400, "/IWBEP/CM_MGW_RT/004", f"Invalid payload: {'; '.join(problems)}")

    def rate_limited(self, retry_after: float | None) -> Response:
        return odata.error(429, "/IWFND/CM_BEC/429", "Too many requests: the tenant's rate limit is exceeded",
                           retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        headers = retry_after_headers(1) if status == 503 else {}
        return odata.error(status, "/IWFND/CM_BEC/026", "The service is temporarily unavailable" if status == 503
                           else "Internal server error", headers)
