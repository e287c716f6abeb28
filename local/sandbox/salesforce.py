"""Salesforce REST API v60.0: the OAuth 2.0 token endpoint, sObject read/update, upsert by external-id
field, and Salesforce's error bodies ([{"message", "errorCode", "fields"}])."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers
from local.sandbox.oauth import TokenIssuer

PREFIXES = {"Account": "001", "Opportunity": "006", "Task": "00T", "Contact": "003"}
# the SOQL the connectors send: SELECT fields FROM object WHERE Field = 'v' [OR Field = 'v' ...] [LIMIT n]
_SOQL = re.compile(r"^SELECT\s+([\w\s,]+?)\s+FROM\s+(\w+)\s+WHERE\s+(.+?)(?:\s+LIMIT\s+(\d+))?$", re.I | re.S)
_CONDITION = re.compile(r"^(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'$", re.S)
_OR = re.compile(r"\s+OR\s+(?=\w+\s*=\s*')", re.I)
REQUIRED = {"Account": ["Name"], "Task": ["Subject"], "Opportunity": ["Name", "StageName"]}


def error(status: int, code: str, message: str, fields: list[str] | None = None,
          headers: dict[str, str] | None = None) -> Response:
    entry: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return Response(status, [entry], headers or {})


class Salesforce(Vendor):
    name = "salesforce"
    VERSION = "v60.0"

    def __init__(self) -> None:
        super().__init__()
        self.issuer = TokenIssuer("3MVG9sandbox.connected.app", "sf-sandbox-secret-5521")
        self.counter = itertools.count(1)

    def credentials(self) -> dict[str, Any]:
        return {"client_id": self.issuer.client_id, "client_secret": self.issuer.client_secret}

    def new_id(self, sobject: str) -> str:
        return f"{PREFIXES.get(sobject, 'a00')}8d000000{next(self.counter):04d}AAA"[:18]

    def seed(self, kind: str, record: dict[str, Any]) -> str:
        record_id = str(record.get("Id") or self.new_id(kind))
        self.table(kind)[record_id] = {**record, "Id": record_id}
        return record_id

    def authenticate(self, request: Request) -> Response | None:
        if request.path == "/services/oauth2/token":
            return None
        if not self.issuer.valid(request.bearer()):
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def route(self, request: Request) -> tuple[str, Any] | None:
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return "token", lambda r: self.issuer.issue(r, {
                "instance_url": self.base_url, "id": f"{self.base_url}/id/00D000000000001/005000000000001",
                "issued_at": str(int(time.time() * 1000)), "signature": "sandbox"})
        parts = path_parts(request.path)
        if parts == ["services", "data", self.VERSION, "query"] and request.method == "GET":
            return "query", self.query
        if parts[:3] != ["services", "data", self.VERSION] or len(parts) < 6 or parts[3] != "sobjects":
            return None
        sobject = parts[4]
        if len(parts) == 7 and request.method == "PATCH":
            field, value = parts[5], parts[6]
            return f"{sobject}.upsert", lambda r: self.upsert(r, sobject, field, value)
        if len(parts) == 6 and request.method == "GET":
            return f"{sobject}.get", lambda r: self.get(sobject, parts[5])
        if len(parts) == 6 and request.method == "PATCH":
            return f"{sobject}.update", lambda r: self.update(r, sobject, parts[5])
        return None

    def query(self, request: Request) -> Response:
        """The subset of SOQL the connectors use; anything else is MALFORMED_QUERY, as Salesforce answers."""
        found = _SOQL.match((request.arg("q") or "").strip())
        conditions = [_CONDITION.match(c.strip()) for c in _OR.split(found.group(3))] if found else []
        if not found or not conditions or not all(conditions):
            return error(400, "MALFORMED_QUERY", f"unexpected token in query: {request.arg('q')!r}")
        fields = [f.strip() for f in found.group(1).split(",")]
        wanted = [(c.group(1), re.sub(r"\\(.)", r"\1", c.group(2))) for c in conditions if c]
        with self.lock:
            rows = [r for r in self.table(found.group(2)).values() if any(r.get(k) == v for k, v in wanted)]
        rows = rows[: int(found.group(4) or 2000)]
        records = [{"attributes": {"type": found.group(2)}, **{f: r.get(f) for f in fields}} for r in rows]
        return Response(200, {"totalSize": len(records), "done": True, "records": records})

    def _missing(self) -> Response:
        return error(404, "NOT_FOUND", "The requested resource does not exist")

    def get(self, sobject: str, record_id: str) -> Response:
        with self.lock:
            record = self.table(sobject).get(record_id)
            if record is None:
                return self._missing()
            return Response(200, {"attributes": {"type": sobject, "url": f"/services/data/{self.VERSION}/sobjects/"
                                                 f"{sobject}/{record_id}"}, **record})

    def update(self, request: Request, sobject: str, record_id: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        with self.lock:
            record = self.table(sobject).get(record_id)
            if record is None:
                return self._missing()
            record.update(body)
        return Response(204)

    def upsert(self, request: Request, sobject: str, field: str, value: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        with self.lock:
            matches = [r for r in self.table(sobject).values() if r.get(field) == value]
            if len(matches) > 1:
                return error(300, "DUPLICATE_EXTERNAL_ID", f"The external ID {field} matches more than one record")
            if not matches:
                missing = [name for name in REQUIRED.get(sobject, []) if not body.get(name)]
                if missing:
                    return error(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)
                what = body.get("WhatId")
                if what and what not in self.table("Account") and what not in self.table("Opportunity"):
                    return error(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["WhatId"])
                record_id = self.new_id(sobject)
                self.table(sobject)[record_id] = {"Id": record_id, field: value, **body}
                return Response(201, {"id": record_id, "success": True, "errors": [], "created": True})
            matches[0].update(body)
            return Response(200, {"id": matches[0]["Id"], "success": True, "errors": [], "created": False})

    def not_found(self, request: Request) -> Response:
        return error(404, "NOT_FOUND", "The requested resource does not exist")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        field = problems[0].split(":", 1)[0].removeprefix("body.").removeprefix("query.")
        if problems[0].endswith("not a field of this operation"):
            return error(400, "INVALID_FIELD", f"No such column '{field}' on sobject", [field])
        return error(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance: {problems[0]}", [field])

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.",
                     headers=retry_after_headers(retry_after))

    def concurrency_refused(self) -> Response:
        return error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")

    def server_error(self, status: int = 500) -> Response:
        code = "SERVER_UNAVAILABLE" if status == 503 else "UNKNOWN_EXCEPTION"
        return error(status, code, "An unexpected error occurred. Please include this ErrorId if you contact "
                                   "support: 1234567890-12345 (-1234567890)")
