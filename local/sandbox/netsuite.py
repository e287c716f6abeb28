"""NetSuite REST web services: /services/rest/record/v1 with token-based authentication (OAuth 1.0a,
HMAC-SHA256) verified the way NetSuite does it, upsert by external id, and NetSuite's error bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import time
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers

RECORD = ["services", "rest", "record", "v1"]
GOVERNANCE = ["services", "rest", "system", "v1", "governanceLimits"]
TYPE_URI = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.{}"
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
REFERENCES = {"entity": "customer", "customer": "customer"}
SUBSIDIARIES = {"1": "HQ", "2": "US01", "3": "UK01", "4": "DE01", "5": "FR01", "6": "NL01", "7": "CA01", "8": "JP01"}
TRANSFORMS = {("salesOrder", "invoice"), ("invoice", "creditMemo")}
_NAME_IS = re.compile(r'^name IS "([^"]*)"$')


def error(status: int, title: str, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    section = {400: 1, 401: 2, 403: 4, 404: 5, 429: 30}.get(status, 1)
    body = {"type": TYPE_URI.format(section), "title": title, "status": status,
            "o:errorDetails": [{"detail": detail, "o:errorCode": code}]}
    return Response(status, body, headers or {}, "application/vnd.oracle.resource+json; type=error")


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


class NetSuite(Vendor):
    name = "netsuite"
    ACCOUNT = "TSTDRV1234567_SB1"

    def __init__(self) -> None:
        super().__init__()
        self.secret = {"account_id": "tstdrv1234567-sb1", "consumer_key": "ck-sandbox-7f3a",
                       "consumer_secret": "cs-sandbox-91bd", "token_id": "tk-sandbox-44c2",
                       "token_secret": "ts-sandbox-0e8f"}
        self.nonces: set[str] = set()
        self.ids = itertools.count(1001)
        self.account_limit = 15
        self._seed_subsidiaries()

    def _seed_subsidiaries(self) -> None:
        for internal_id, name in SUBSIDIARIES.items():
            self.table("subsidiary")[internal_id] = {"id": internal_id, "name": name}

    def credentials(self) -> dict[str, Any]:
        return dict(self.secret)

    def _invalid_login(self, why: str) -> Response:
        return error(401, "Unauthorized", "INVALID_LOGIN",
                     "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                     f"Setup > Users/Roles > User Management > View Login Audit Trail. ({why})")

    def authenticate(self, request: Request) -> Response | None:
        header = request.header("authorization")
        if not header.startswith("OAuth "):
            return self._invalid_login("missing OAuth header")
        fields = {k: unquote(v) for k, v in _AUTH_FIELD.findall(header)}
        if fields.get("realm") != self.ACCOUNT:
            return self._invalid_login("wrong realm")
        if fields.get("oauth_signature_method") != "HMAC-SHA256" or fields.get("oauth_version", "1.0") != "1.0":
            return self._invalid_login("unsupported signature method")
        if (fields.get("oauth_consumer_key") != self.secret["consumer_key"]
                or fields.get("oauth_token") != self.secret["token_id"]):
            return self._invalid_login("unknown consumer or token")
        if abs(time.time() - int(fields.get("oauth_timestamp", "0"))) > 300:
            return self._invalid_login("stale timestamp")
        if not hmac.compare_digest(self._signature(request, fields), fields.get("oauth_signature", "")):
            return self._invalid_login("bad signature")
        nonce = fields["oauth_nonce"] + fields["oauth_timestamp"]
        with self.lock:
            if nonce in self.nonces:
                return self._invalid_login("nonce used before")
            self.nonces.add(nonce)
        return None

    def _signature(self, request: Request, fields: dict[str, str]) -> str:
        url = urlsplit(request.url)
        base = f"{url.scheme}://{url.netloc.lower()}{url.path}"
        params = [(k, v) for k, v in fields.items() if k.startswith("oauth_") and k != "oauth_signature"]
        params += request.query
        normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
        text = "&".join((request.method.upper(), _enc(base), _enc(normalized)))
        key = f"{_enc(self.secret['consumer_secret'])}&{_enc(self.secret['token_secret'])}"
        return base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()

    def route(self, request: Request) -> tuple[str, Any] | None:
        parts = path_parts(request.path)
        if parts == GOVERNANCE and request.method == "GET":
            return "governanceLimits", self.governance
        if parts == [*RECORD, "subsidiary"] and request.method == "GET":
            return "subsidiary.list", self.subsidiaries
        if parts[:4] == RECORD and len(parts) == 8 and parts[6] == "!transform" and request.method == "POST":
            return f"{parts[4]}.transform", lambda r: self.transform(r, parts[4], parts[5], parts[7])
        if parts[:4] != RECORD or len(parts) != 6 or not parts[5].startswith("eid:"):
            return None
        kind = parts[4]
        verb = {"PUT": "upsert", "PATCH": "update", "GET": "get"}.get(request.method)
        if verb is None:
            return None
        return f"{kind}.{verb}", lambda r: getattr(self, verb)(r, kind, parts[5][4:])

    def governance(self, request: Request) -> Response:
        return Response(200, {"accountConcurrencyLimit": self.account_limit,
                              "unallocatedConcurrencyLimit": self.account_limit, "limitType": "accountLimit"})

    def subsidiaries(self, request: Request) -> Response:
        wanted = _NAME_IS.match(request.arg("q") or "")
        if request.arg("q") and wanted is None:
            return error(400, "Bad Request", "INVALID_PARAMETER", "Invalid query parameter value: q.")
        with self.lock:
            found = [r for r in self.table("subsidiary").values() if wanted is None or r["name"] == wanted.group(1)]
        items = [{"links": [{"rel": "self", "href": f"{self.base_url}/services/rest/record/v1/subsidiary/{r['id']}"}],
                  "id": r["id"]} for r in found]
        return Response(200, {"links": [], "count": len(items), "hasMore": False, "items": items, "offset": 0,
                              "totalResults": len(items)})

    def _invalid(self, field: str) -> Response:
        return error(400, "Bad Request", "USER_ERROR", "Error while accessing a resource. Invalid value for the "
                     f"resource or sub-resource field '{field}'. Provide a valid value.")

    def _check_references(self, body: dict[str, Any]) -> Response | None:
        """References must name existing records; the stored reference carries what NetSuite shows on a read."""
        for field, kind in REFERENCES.items():
            ref = body.get(field)
            if isinstance(ref, dict) and ref.get("externalId") and not self._find(kind, ref["externalId"]):
                return self._invalid(field)
        subsidiary = body.get("subsidiary")
        if isinstance(subsidiary, dict):
            found = self.table("subsidiary").get(str(subsidiary.get("id")))
            if found is None:
                return self._invalid("subsidiary")
            body["subsidiary"] = {"id": found["id"], "refName": found["name"]}
        for line in ((body.get("apply") or {}).get("items") or []):
            invoice = self.table("invoice").get(str((line.get("doc") or {}).get("id")))
            if invoice is None:
                return self._invalid("apply.doc")
            line["doc"] = {"id": invoice["id"], "externalId": invoice.get("externalId")}
        return None

    def _find(self, kind: str, external_id: str) -> dict[str, Any] | None:
        return next((r for r in self.table(kind).values() if r.get("externalId") == external_id), None)

    def upsert(self, request: Request, kind: str, external_id: str) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return error(400, "Bad Request", "INVALID_CONTENT", "The request body is not valid JSON.")
        if kind == "customer" and not body.get("companyName") and not self._find(kind, external_id):
            return error(400, "Bad Request", "USER_ERROR", "Please enter value(s) for: Company Name")
        with self.lock:
            refused = self._check_references(body)
            if refused:
                return refused
            record = self._find(kind, external_id)
            if record is None:
                record = {"id": str(next(self.ids)), "externalId": external_id}
                self.table(kind)[record["id"]] = record
            record.update(body)
        location = f"{self.base_url}/services/rest/record/v1/{kind}/{record['id']}"
        return Response(204, None, {"Location": location})

    def transform(self, request: Request, kind: str, source_id: str, target: str) -> Response:
        """Transforming a record (order -> invoice, invoice -> credit memo) creates the target with createdFrom."""
        body = request.json()
        if (kind, target) not in TRANSFORMS or not isinstance(body, dict):
            return error(400, "Bad Request", "INVALID_TRANSFORM", f"Transform from {kind} to {target} is not valid.")
        with self.lock:
            source = self.table(kind).get(source_id)
            if source is None:
                return error(404, "Not Found", "NONEXISTENT_ID",
                             "The record instance does not exist. Provide a valid record instance ID.")
            if body.get("externalId") and self._find(target, body["externalId"]):
                return error(400, "Bad Request", "DUP_RCRD", "A record with this external ID already exists.")
            refused = self._check_references(body)
            if refused:
                return refused
            record = {"id": str(next(self.ids)), **body,
                      "createdFrom": {"id": source_id, "externalId": source.get("externalId")}}
            self.table(target)[record["id"]] = record
        return Response(204, None, {"Location": f"{self.base_url}/services/rest/record/v1/{target}/{record['id']}"})

    def update(self, request: Request, kind: str, external_id: str) -> Response:
        body = request.json() or {}
        with self.lock:
            record = self._find(kind, external_id)
            if record is None:
                return error(404, "Not Found", "NONEXISTENT_ID",
                             "The record instance does not exist. Provide a valid record instance ID.")
            refused = self._check_references(body)
            if refused:
                return refused
            replace = {name for name in (request.arg("replace") or "").split(",") if name}
            for field, value in body.items():
                if isinstance(value, dict) and "items" in value and field not in replace:
                    record.setdefault(field, {"items": []})["items"] += value["items"]
                else:
                    record[field] = value
            lines = (record.get("item") or {}).get("items") or []
            if kind == "salesOrder" and "item" in body and lines and all(line.get("isClosed") for line in lines):
                record["orderStatus"] = {"id": "H", "refName": "Closed"}  # NetSuite derives it from the lines
        return Response(204, None, {"Location": f"{self.base_url}/services/rest/record/v1/{kind}/{record['id']}"})

    def get(self, request: Request, kind: str, external_id: str) -> Response:
        with self.lock:
            record = self._find(kind, external_id)
            if record is None:
                return error(404, "Not Found", "NONEXISTENT_ID",
                             "The record instance does not exist. Provide a valid record instance ID.")
            return Response(200, dict(record))

    def not_found(self, request: Request) -> Response:
        return error(404, "Not Found", "INVALID_URL", f"The requested URL {request.path} is not valid.")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return error(400, "Bad Request", "INVALID_CONTENT" if "not a field" in problems[0] else "USER_ERROR",
                     f"Error while accessing a resource. {'; '.join(problems)}")

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "Too Many Requests", "REQUEST_LIMIT_EXCEEDED",
                     "Request limit exceeded. Try again later.", retry_after_headers(retry_after))

    def concurrency_refused(self) -> Response:
        return error(429, "Too Many Requests", "CONCURRENCY_LIMIT_EXCEEDED",
                     "Concurrent request limit exceeded. Request blocked.")

    def server_error(self, status: int = 500) -> Response:
        return error(status, "Internal Server Error", "UNEXPECTED_ERROR", "An unexpected error occurred.")

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.nonces.clear()
            self._seed_subsidiaries()
