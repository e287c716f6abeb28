"""Gainsight data-object APIs (Company and custom objects): query, insert, update by keys, with the
accesskey header, and Gainsight's envelope {"result", "errorCode", "errorDesc", "requestId", "data"}."""

from __future__ import annotations

import uuid
from typing import Any

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers

REQUIRED = {"Company": ["Name"]}
MATCHING = {"EQ", "IN"}  # the field's value is one of the condition's values
NOT_MATCHING = {"NE", "NOT_IN"}  # it is none of them


def _holds(record: dict[str, Any], condition: dict[str, Any]) -> bool:
    inside = str(record.get(condition["name"])) in [str(v) for v in condition.get("value", [])]
    return inside if condition.get("operator") in MATCHING else not inside


def envelope(data: Any) -> dict[str, Any]:
    return {"result": True, "errorCode": None, "errorDesc": None, "requestId": str(uuid.uuid4()), "data": data,
            "message": None}


def error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"result": False, "errorCode": code, "errorDesc": description,
                             "requestId": str(uuid.uuid4()), "data": None, "message": None}, headers or {})


def gsid() -> str:
    return ("1P02" + uuid.uuid4().hex + uuid.uuid4().hex)[:36].upper()


class Gainsight(Vendor):
    name = "gainsight"

    def __init__(self) -> None:
        super().__init__()
        self.access_key = "gs-sandbox-accesskey-6f0c2d"

    def credentials(self) -> dict[str, Any]:
        return {"access_key": self.access_key}

    def seed(self, kind: str, record: dict[str, Any]) -> str:
        record_id = str(record.get("Gsid") or gsid())
        self.table(kind)[record_id] = {**record, "Gsid": record_id}
        return record_id

    def authenticate(self, request: Request) -> Response | None:
        if request.header("accesskey") != self.access_key:
            return error(401, "GS_0401", "Access key is invalid or missing")
        return None

    def route(self, request: Request) -> tuple[str, Any] | None:
        parts = path_parts(request.path)
        if parts[:3] != ["v1", "data", "objects"]:
            return None
        if len(parts) == 5 and parts[3] == "query" and request.method == "POST":
            return f"{parts[4]}.query", lambda r: self.query(r, parts[4])
        if len(parts) == 4 and request.method == "POST":
            return f"{parts[3]}.insert", lambda r: self.insert(r, parts[3])
        if len(parts) == 4 and request.method == "PUT":
            return f"{parts[3]}.update", lambda r: self.update(r, parts[3])
        return None

    def query(self, request: Request, object_name: str) -> Response:
        body = request.json() or {}
        conditions = (body.get("where") or {}).get("conditions") or []
        unsupported = sorted({c.get("operator") for c in conditions} - MATCHING - NOT_MATCHING)
        if unsupported:  # valid for Gainsight, not evaluated here: refused, never answered as if it matched
            return error(400, "GS_3001", f"the sandbox does not evaluate operator(s) {unsupported}")
        with self.lock:
            found = [r for r in self.table(object_name).values() if all(_holds(r, c) for c in conditions)]
        limit = int(body.get("limit") or 100)
        select = body.get("select") or []
        records = [{k: r.get(k) for k in select} if select else r for r in found[:limit]]
        return Response(200, envelope({"records": records}))

    def _records(self, request: Request) -> list[dict[str, Any]] | Response:
        body = request.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records or len(records) > 50:
            return error(400, "GS_3001", "records must hold between 1 and 50 records")
        return records

    def insert(self, request: Request, object_name: str) -> Response:
        records = self._records(request)
        if isinstance(records, Response):
            return records
        created = []
        with self.lock:
            for record in records:
                missing = [f for f in REQUIRED.get(object_name, []) if not record.get(f)]
                if missing:
                    return error(400, "GS_2101", f"Mandatory fields are missing: {', '.join(missing)}")
                new = {**record, "Gsid": gsid()}
                self.table(object_name)[new["Gsid"]] = new
                created.append({"Gsid": new["Gsid"]})
        return Response(200, envelope({"count": len(created), "errors": [], "records": created}))

    def update(self, request: Request, object_name: str) -> Response:
        keys = [k for k in (request.arg("keys") or "").split(",") if k]
        if not keys:
            return error(400, "GS_3002", "keys query parameter is required")
        records = self._records(request)
        if isinstance(records, Response):
            return records
        updated = []
        with self.lock:
            for record in records:
                target = next((r for r in self.table(object_name).values()
                               if all(r.get(k) == record.get(k) for k in keys)), None)
                if target is None:
                    return error(404, "GS_4004", f"No {object_name} record matches {keys}")
                target.update(record)
                updated.append({"Gsid": target["Gsid"]})
        return Response(200, envelope({"count": len(updated), "errors": [], "records": updated}))

    def not_found(self, request: Request) -> Response:
        return error(404, "GS_4040", f"No API at {request.path}")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return error(400, "GS_3001", "; ".join(problems))

    def rate_limited(self, retry_after: float | None) -> Response:
        return error(429, "GS_0429", "API rate limit exceeded", retry_after_headers(retry_after))

    def server_error(self, status: int = 500) -> Response:
        return error(status, "GS_5000", "Internal server error")
