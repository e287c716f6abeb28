"""Oracle Fusion Cloud ERP REST (11.13.18.05) for an integration user: basic auth, REST-Framework-Version required,
accounts upserted with Upsert-Mode, Order Management's salesOrdersForOrderHub (key SourceTransactionSystem:Id,
line cancellation needs a reason), receivables invoices / credit memos / standard receipts checked against the
customers and invoices they name, the integration's ErphubForecast_c object, and Oracle's error bodies."""

from __future__ import annotations

import base64
import hmac
import itertools
import re
from collections.abc import Callable
from typing import Any

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers

CRM = ["crmRestApi", "resources", "11.13.18.05"]
FSCM = ["fscmRestApi", "resources", "11.13.18.05"]
RESOURCES = {"accounts": CRM, "ErphubForecast_c": CRM, "salesOrdersForOrderHub": FSCM, "receivablesInvoices": FSCM,
             "receivablesCreditMemos": FSCM, "standardReceipts": FSCM}
# resource -> (id field, number field it assigns or None)
IDS = {"accounts": ("PartyId", "PartyNumber"), "ErphubForecast_c": ("Id", None),
       "salesOrdersForOrderHub": ("HeaderId", "OrderNumber"), "receivablesInvoices": ("CustomerTransactionId", None),
       "receivablesCreditMemos": ("CustomerTransactionId", None), "standardReceipts": ("StandardReceiptId", None)}
UNIQUE = {"salesOrdersForOrderHub": ("SourceTransactionSystem", "SourceTransactionId"),
          "receivablesInvoices": ("TransactionNumber",), "receivablesCreditMemos": ("TransactionNumber",),
          "standardReceipts": ("ReceiptNumber",), "ErphubForecast_c": ("RecordName",)}
_CLAUSE = re.compile(r"^\s*(\w+)\s*=\s*'((?:[^']|'')*)'\s*$")


def error(status: int, detail: str, code: str = "", headers: dict[str, str] | None = None) -> Response:
    titles = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}
    return Response(status, {"title": titles.get(status, "Service Unavailable" if status == 503 else "Error"),
                             "status": str(status), "o:errorDetails": [{"detail": detail, "o:errorCode": code}]},
                    headers or {}, "application/vnd.oracle.adf.error+json")


def matches(record: dict[str, Any], query: str | None) -> bool:
    """Query-by-example: Field='value';Other='value'."""
    for clause in (query or "").split(";"):
        if not clause.strip():
            continue
        found = _CLAUSE.match(clause)
        if found is None or str(record.get(found.group(1), "")) != found.group(2).replace("''", "'"):
            return False
    return True


class Oracle(Vendor):
    name = "oracle"

    def __init__(self) -> None:
        super().__init__()
        self.user, self.password = "erphub.integration", "oracle-sandbox-Welcome1"
        self.ids = itertools.count(300000001)

    def credentials(self) -> dict[str, Any]:
        return {"username": self.user, "password": self.password}

    def authenticate(self, request: Request) -> Response | None:
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if not hmac.compare_digest(request.header("authorization"), expected):
            return Response(401, b"", {"WWW-Authenticate": 'Basic realm="Oracle Fusion Applications"'}, "text/plain")
        return None

    def route(self, request: Request) -> tuple[str, Callable[[Request], Response]] | None:
        parts = path_parts(request.path)
        if len(parts) not in (4, 5) or parts[3] not in RESOURCES or parts[:3] != RESOURCES[parts[3]]:
            return None
        resource = parts[3]
        if len(parts) == 4:
            if request.method == "GET":
                return f"{resource}.query", lambda r: self.query(r, resource)
            if request.method == "POST":
                verb = "upsert" if resource == "accounts" else "create"
                return f"{resource}.{verb}", lambda r: self.create(r, resource)
            return None
        if request.method == "PATCH":
            return f"{resource}.update", lambda r: self.update(r, resource, parts[4])
        return None

    # --- reads ----------------------------------------------------------------------------------
    def _shown(self, record: dict[str, Any], resource: str, expand: str | None) -> dict[str, Any]:
        shown = {k: v for k, v in record.items() if not isinstance(v, list) or k in (expand or "").split(",")}
        shown["links"] = [{"rel": "self", "href": f"{self.base_url}/{'/'.join(RESOURCES[resource])}/{resource}/"
                                                  f"{record[IDS[resource][0]]}"}]
        return shown

    def query(self, request: Request, resource: str) -> Response:
        limit, offset = int(request.arg("limit") or 25), int(request.arg("offset") or 0)
        with self.lock:
            found = [r for r in self.table(resource).values() if matches(r, request.arg("q"))]
            items = [self._shown(r, resource, request.arg("expand")) for r in found[offset: offset + limit]]
        return Response(200, {"items": items, "count": len(items), "hasMore": offset + limit < len(found),
                              "limit": limit, "offset": offset})

    def _find(self, resource: str, **fields: str) -> dict[str, Any] | None:
        return next((r for r in self.table(resource).values()
                     if all(str(r.get(k)) == v for k, v in fields.items())), None)

    # --- writes ---------------------------------------------------------------------------------
    def create(self, request: Request, resource: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error(400, "The request body is not a JSON object.")
        with self.lock:
            if resource == "accounts":
                return self._upsert_account(request, body)
            unique = {k: str(body.get(k)) for k in UNIQUE.get(resource, ())}
            if unique and self._find(resource, **unique):
                return error(400, f"A {resource} record with {unique} already exists.", "FND-2618")
            refused = self._refuse(resource, body)
            if refused is not None:
                return refused
            return Response(201, self._shown(self._insert(resource, body), resource, None))

    def _insert(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        id_field, number_field = IDS[resource]
        record_id = next(self.ids)
        record = {**body, id_field: record_id}
        if number_field:
            record[number_field] = str(record_id - 300000000 + 1000) if resource == "accounts" else str(record_id)
        if resource == "salesOrdersForOrderHub":
            record["StatusCode"] = "OPEN"
            for line in record.get("lines") or []:
                line.setdefault("StatusCode", "OPEN")
        self.table(resource)[str(record_id)] = record
        return record

    def _upsert_account(self, request: Request, body: dict[str, Any]) -> Response:
        """Upsert-Mode: true updates the account with the same source system reference, else creates one."""
        reference = {"SourceSystem": str(body.get("SourceSystem")),
                     "SourceSystemReferenceValue": str(body.get("SourceSystemReferenceValue"))}
        existing = self._find("accounts", **reference) if body.get("SourceSystem") else None
        if existing is not None:
            if request.header("upsert-mode").lower() != "true":
                return error(400, "An account with this source system reference already exists.", "ZCA-2003")
            existing.update(body)
            return Response(200, self._shown(existing, "accounts", None))
        return Response(201, self._shown(self._insert("accounts", body), "accounts", None))

    def _refuse(self, resource: str, body: dict[str, Any]) -> Response | None:
        party = body.get("BuyingPartyNumber") or body.get("BillToCustomerNumber") or body.get("CustomerAccountNumber")
        if party is not None and self._find("accounts", PartyNumber=str(party)) is None:
            return error(400, f"The value of the attribute for customer {party} isn't valid.", "AR-855005")
        if resource == "salesOrdersForOrderHub" and not body.get("lines"):
            return error(400, "The sales order must have at least one order line.", "DOO-2685")
        for reference in body.get("remittanceReferences") or []:
            number = str(reference.get("ReferenceNumber"))
            if reference.get("ReceiptMatchBy") == "Transaction Number" \
                    and self._find("receivablesInvoices", TransactionNumber=number) is None:
                return error(400, f"The transaction {reference.get('ReferenceNumber')} doesn't exist.", "AR-855210")
        return None

    def update(self, request: Request, resource: str, key: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error(400, "The request body is not a JSON object.")
        with self.lock:
            record = self._by_key(resource, key)
            if record is None:
                return error(404, f"The requested resource {resource}/{key} doesn't exist.")
            if resource == "salesOrdersForOrderHub":
                refused = self._revise_lines(record, body.pop("lines", []) or [])
                if refused is not None:
                    return refused
            record.update(body)
            return Response(200, self._shown(record, resource, "lines"))

    def _by_key(self, resource: str, key: str) -> dict[str, Any] | None:
        if resource == "salesOrdersForOrderHub":
            system, _, source_id = key.partition(":")
            return self._find(resource, SourceTransactionSystem=system, SourceTransactionId=source_id)
        return self.table(resource).get(key)

    def _revise_lines(self, order: dict[str, Any], lines: list[dict[str, Any]]) -> Response | None:
        """Lines by SourceTransactionLineId: changed, added, or cancelled (quantity 0 needs a CancelReason)."""
        current = {line["SourceTransactionLineId"]: line for line in order.get("lines") or []}
        for change in lines:
            if change.get("OrderedQuantity") == 0 and change.get("CancelReason") is None \
                    and change["SourceTransactionLineId"] in current:
                return error(400, "To cancel an order line, provide a cancel reason.", "DOO-2681")
            line = current.get(change["SourceTransactionLineId"])
            if line is not None and line.get("StatusCode") == "CANCELED":
                return error(400, "You can't revise a canceled order line.", "DOO-2712")
        for change in lines:
            line = current.get(change["SourceTransactionLineId"])
            if line is None:
                order.setdefault("lines", []).append({**change, "StatusCode": "OPEN"})
                continue
            line.update(change)
            if change.get("CancelReason"):
                line["StatusCode"] = "CANCELED"
        if all(line.get("StatusCode") == "CANCELED" for line in order.get("lines") or []):
            order["StatusCode"] = "CLOSED"
        return None

    # --- the vendor's refusals --------------------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return error(404, f"The requested URL {request.path} was not found.")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return error(400, "; ".join(problems), "REST-400")

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "Too many requests. Try again later.", "", retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        return error(status, "The server is temporarily unable to service the request.", "",
                     retry_after_headers(5) if status == 503 else {})
