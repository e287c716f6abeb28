"""Dataverse Web API (OData v4) for Dynamics 365, with an Entra ID client-credentials token endpoint at
/dynamics/<tenant>/oauth2/v2.0/token. Upsert by alternate key, If-Match / If-None-Match, @odata.bind
references checked, the CancelSalesOrder / FulfillSalesOrder actions, and Dataverse's error bodies."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers
from local.sandbox.oauth import TokenIssuer

API = ["api", "data", "v9.2"]
_KEYED = re.compile(r"^(\w+)\((\w+)='((?:[^']|'')*)'\)$")
# the collection-valued navigations to a header's lines: (navigation, line entity set, the line's binding to its header)
_LINES = {"salesorders": ("order_details", "salesorderdetails", "salesorderid@odata.bind"),
          "invoices": ("invoice_details", "invoicedetails", "invoiceid@odata.bind")}
ACTIONS = {"FulfillSalesOrder": (3, "fulfilled"), "CancelSalesOrder": (2, "canceled")}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"error": {"code": code, "message": message}}, headers or {})


def entity_of(entity_set: str) -> str:
    return entity_set[:-1] if entity_set.endswith("s") else entity_set


class Dynamics(Vendor):
    name = "dynamics"
    TENANT = "00000000-0000-4000-8000-00000000abcd"

    def __init__(self) -> None:
        super().__init__()
        self.issuer = TokenIssuer("11111111-2222-4333-8444-555555555555", "dyn-sandbox-secret~9")

    def credentials(self) -> dict[str, Any]:
        return {"tenant_id": self.TENANT, "client_id": self.issuer.client_id,
                "client_secret": self.issuer.client_secret,
                "token_url": f"{self.base_url}/{self.TENANT}/oauth2/v2.0/token",
                "scope": f"{self.base_url}/.default"}

    def _is_token_request(self, request: Request) -> bool:
        return path_parts(request.path) == [self.TENANT, "oauth2", "v2.0", "token"] and request.method == "POST"

    def authenticate(self, request: Request) -> Response | None:
        if self._is_token_request(request):
            return None
        if not self.issuer.valid(request.bearer()):
            return error(401, "0x80072560", "The user is not a member of the organization.",
                         {"WWW-Authenticate": f'Bearer authorization_uri="{self.base_url}/{self.TENANT}"'})
        return None

    def route(self, request: Request) -> tuple[str, Any] | None:
        if self._is_token_request(request):
            return "token", lambda r: self.issuer.issue(
                r, {"expires_in": 3599, "ext_expires_in": 3599}, 401,
                "AADSTS7000215: Invalid client secret provided.")
        parts = path_parts(request.path)
        if parts[:3] != API or len(parts) != 4:
            return None
        target = parts[3]
        if target in ACTIONS and request.method == "POST":
            return target, lambda r: self.close_order(r, target)
        keyed = _KEYED.match(target)
        if keyed is None:
            return None
        entity_set, column, value = keyed.group(1), keyed.group(2), keyed.group(3).replace("''", "'")
        if request.method == "PATCH":
            return f"{entity_set}.upsert", lambda r: self.upsert(r, entity_set, column, value)
        if request.method == "GET":
            return f"{entity_set}.get", lambda r: self.get(entity_set, column, value, r.arg("$expand"))
        return None

    def find(self, entity_set: str, column: str, value: str) -> dict[str, Any] | None:
        return next((r for r in self.table(entity_set).values() if str(r.get(column)) == value), None)

    def _missing(self, entity_set: str, column: str, value: str) -> Response:
        return error(404, "0x80040217",
                     f"A record with the specified key values does not exist in {entity_of(entity_set)} entity "
                     f"({column}={value})")

    def _check_binds(self, body: dict[str, Any]) -> Response | None:
        for name, ref in body.items():
            if not name.endswith("@odata.bind"):
                continue
            keyed = _KEYED.match(str(ref).lstrip("/"))
            if keyed is None:
                return error(400, "0x80060888", f"Invalid reference {ref} for {name}")
            # a bind is a URL: its key literal is percent-encoded like the request path's
            entity_set, column, value = keyed.group(1), keyed.group(2), unquote(keyed.group(3)).replace("''", "'")
            if self.find(entity_set, column, value) is None:
                return error(400, "0x80060891", f"A record with the specified key values does not exist in "
                                                f"{entity_of(entity_set)} entity")
        return None

    def upsert(self, request: Request, entity_set: str, column: str, value: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error(400, "0x80048d19", "Error identified in Payload provided by the user for Entity")
        with self.lock:
            record = self.find(entity_set, column, value)
            if record is None and request.header("if-match") == "*":
                return self._missing(entity_set, column, value)
            if record is not None and request.header("if-none-match") == "*":
                return error(412, "0x80040237", "A record with matching key values already exists.")
            refused = self._check_binds(body)
            if refused:
                return refused
            created = record is None
            if record is None:
                record_id = str(uuid.uuid4())
                record = self.table(entity_set)[record_id] = {"id": record_id, f"{entity_of(entity_set)}id": record_id,
                                                              column: value, "statecode": 0}
            record.update(body)
            snapshot = dict(record)
        entity_id = f"{self.base_url}/api/data/v9.2/{entity_set}({snapshot['id']})"
        headers = {"OData-EntityId": entity_id, "OData-Version": "4.0"}
        if "return=representation" in request.header("prefer"):
            return Response(201 if created else 200, snapshot, headers)
        return Response(204, None, headers)

    def get(self, entity_set: str, column: str, value: str, expand: str | None = None) -> Response:
        with self.lock:
            record = self.find(entity_set, column, value)
            if record is None:
                return self._missing(entity_set, column, value)
            found = dict(record)
            if expand:  # only the navigations the connector reads: a sales order's or an invoice's lines
                name, _, select = expand.partition("(")
                if _LINES.get(entity_set, ("",))[0] != name:
                    return error(400, "0x80060888", f"Could not find a property named '{name}' on type "
                                                    f"'Microsoft.Dynamics.CRM.{entity_of(entity_set)}'.")
                columns = select.removeprefix("$select=").rstrip(")").split(",") if select else None
                found[name] = [{k: v for k, v in line.items() if columns is None or k in columns}
                               for line in self._lines_of(record, entity_set)]
            return Response(200, found)

    def _lines_of(self, order: dict[str, Any], entity_set: str = "salesorders") -> list[dict[str, Any]]:
        _, line_set, bind = _LINES[entity_set]
        lines = []
        for line in self.table(line_set).values():
            keyed = _KEYED.match(str(line.get(bind, "")).lstrip("/"))
            if keyed and self.find(entity_set, keyed.group(2), unquote(keyed.group(3)).replace("''", "'")) is order:
                lines.append(line)
        return sorted(lines, key=lambda line: line.get("lineitemnumber") or 0)

    def close_order(self, request: Request, action: str) -> Response:
        body = request.json() or {}
        ref = str((body.get("OrderClose") or {}).get("salesorderid@odata.bind", "")).lstrip("/")
        keyed = _KEYED.match(ref)
        if keyed is None or "Status" not in body:
            return error(400, "0x80040203", "OrderClose with salesorderid@odata.bind and Status are required")
        with self.lock:
            value = unquote(keyed.group(3)).replace("''", "'")
            order = self.find(keyed.group(1), keyed.group(2), value)
            if order is None:
                return self._missing(keyed.group(1), keyed.group(2), value)
            order["statecode"], order["state"] = ACTIONS[action]
            order["statuscode"] = body["Status"]
        return Response(204)

    def not_found(self, request: Request) -> Response:
        return error(404, "0x8006088a", f"Resource not found for the segment '{request.path}'.")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return error(400, "0x80048d19", f"Error identified in Payload provided by the user for Entity: "
                                        f"{'; '.join(problems)}")

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 "
                                        "seconds.", retry_after_headers(retry_after))

    def concurrency_refused(self) -> Response:
        return error(429, "0x80072326", "Number of concurrent requests exceeded the limit of 52.",
                     retry_after_headers(1))

    def server_error(self, status: int = 500) -> Response:
        return error(status, "0x80040216", "An unexpected error occurred.")
