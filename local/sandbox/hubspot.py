"""HubSpot CRM v3 objects: read, batch read, create, update and search companies, deals, line items and tasks
with a private-app bearer token; a unique property (erphub_key) answers 409 "Existing ID" on a second create.
CRM v4 associations: the records associated with one object (seeded with `associate`, or made by a create's
`associations`), paged as HubSpot pages them."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from local.sandbox.core import Request, Response, Vendor, path_parts, retry_after_headers

OBJECT_TYPES = {"companies", "deals", "tasks", "contacts", "line_items"}
DEFAULT_TYPE_IDS = {("deals", "companies"): 341, ("deals", "line_items"): 19, ("tasks", "companies"): 192}
UNIQUE = "erphub_key"


def error(status: int, category: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                             "category": category}, headers or {})


class HubSpot(Vendor):
    name = "hubspot"

    def __init__(self) -> None:
        super().__init__()
        self.token = "pat-na1-00000000-sandbox-4c1f-9e2d-hub0spot0001"
        self.counter = itertools.count(18000000001)

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.token}

    def seed(self, kind: str, record: dict[str, Any]) -> str:
        if kind == "associations":  # {"from_type", "from_id", "to_type", "to_id", "type_id"}
            self.associate(record["from_type"], str(record["from_id"]), record["to_type"], str(record["to_id"]),
                           record.get("type_id"))
            return f"{record['from_id']}-{record['to_id']}"
        record_id = str(record.get("id") or next(self.counter))
        self.table(kind)[record_id] = self._object(record_id, record.get("properties", record))
        return record_id

    def _object(self, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return {"id": object_id, "properties": {"hs_object_id": object_id, **properties},
                "createdAt": now, "updatedAt": now, "archived": False}

    def authenticate(self, request: Request) -> Response | None:
        if request.bearer() != self.token:
            return error(401, "INVALID_AUTHENTICATION",
                         "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                         "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
        return None

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int | None = None) -> None:
        """One association, as HubSpot keeps it (both directions are listed from their own side)."""
        type_id = type_id or DEFAULT_TYPE_IDS.get((from_type, to_type), 1)
        with self.lock:
            self._link(from_type, from_id, to_type, to_id, [type_id])

    def _link(self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: list[int]) -> None:
        # keyed by text and listed as plain lists: the records are JSON (erphub up --state saves them)
        links: dict[str, Any] = self.table("associations").setdefault(f"{from_type}/{from_id}/{to_type}", {})
        links[to_id] = sorted({*links.get(to_id, []), *type_ids})

    def route(self, request: Request) -> tuple[str, Any] | None:
        parts = path_parts(request.path)
        if parts[:3] == ["crm", "v4", "objects"] and len(parts) == 7 and parts[5] == "associations" \
                and request.method == "GET":
            return "associations.list", lambda r: self.associations(r, parts[3], parts[4], parts[6])
        if parts[:3] != ["crm", "v3", "objects"] or len(parts) < 4 or parts[3] not in OBJECT_TYPES:
            return None
        kind = parts[3]
        if len(parts) == 4 and request.method == "POST":
            return f"{kind}.create", lambda r: self.create(r, kind)
        if len(parts) == 5 and parts[4] == "search" and request.method == "POST":
            return f"{kind}.search", lambda r: self.search(r, kind)
        if parts[4:] == ["batch", "read"] and request.method == "POST":
            return f"{kind}.batch_read", lambda r: self.batch_read(r, kind)
        if len(parts) == 5 and request.method == "GET":
            return f"{kind}.get", lambda r: self.get(kind, parts[4])
        if len(parts) == 5 and request.method == "PATCH":
            return f"{kind}.update", lambda r: self.update(r, kind, parts[4])
        return None

    def _missing(self, object_id: str) -> Response:
        return error(404, "OBJECT_NOT_FOUND", f"Object not found. objectId are usually numeric. ({object_id})")

    def get(self, kind: str, object_id: str) -> Response:
        with self.lock:
            record = self.table(kind).get(object_id)
            return Response(200, record) if record else self._missing(object_id)

    def batch_read(self, request: Request, kind: str) -> Response:
        """Found records with only the asked properties; ids not found are left out (HubSpot answers 207 then)."""
        body = request.json() or {}
        wanted = set(body.get("properties") or [])
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        with self.lock:
            table = self.table(kind)
            found = [{**table[i], "properties": {k: v for k, v in table[i]["properties"].items()
                                                 if k in wanted or k == "hs_object_id"}}
                     for i in (str(x.get("id")) for x in body.get("inputs") or []) if i in table]
        missing = len(body.get("inputs") or []) - len(found)
        result: dict[str, Any] = {"status": "COMPLETE", "results": found, "startedAt": now, "completedAt": now}
        if missing:
            result.update(numErrors=missing, errors=[{"status": "error", "category": "OBJECT_NOT_FOUND",
                                                      "message": "Could not get some objects, they may be deleted "
                                                                 "or not exist."}])
        return Response(207 if missing else 200, result)

    def associations(self, request: Request, from_type: str, from_id: str, to_type: str) -> Response:
        limit, after = int(request.arg("limit") or 500), int(request.arg("after") or 0)
        with self.lock:
            links = sorted(self.table("associations").get(f"{from_type}/{from_id}/{to_type}", {}).items(),
                           key=lambda link: int(link[0]) if link[0].isdigit() else 0)
        page = [{"toObjectId": int(to_id) if to_id.isdigit() else to_id,
                 "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": "Primary" if t == 5
                                       else None} for t in sorted(types)]}
                for to_id, types in links[after:after + limit]]
        body: dict[str, Any] = {"results": page}
        if after + limit < len(links):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return Response(200, body)

    def create(self, request: Request, kind: str) -> Response:
        body = request.json()
        properties = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(properties, dict):
            return error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1: properties is required")
        if kind == "tasks" and not properties.get("hs_timestamp"):
            return error(400, "VALIDATION_ERROR", "Property values were not valid: hs_timestamp is required")
        with self.lock:
            key = properties.get(UNIQUE)
            existing = next((r for r in self.table(kind).values() if key and r["properties"].get(UNIQUE) == key), None)
            if existing:
                return error(409, "CONFLICT", f"{kind[:-1].capitalize()} already exists. Existing ID: {existing['id']}")
            for association in body.get("associations") or []:
                target = str((association.get("to") or {}).get("id"))
                if target not in self.table("companies") and target not in self.table("deals"):
                    return error(400, "VALIDATION_ERROR", f"One or more associations are invalid: {target}")
            object_id = str(next(self.counter))
            record = self._object(object_id, properties)
            record["associations"] = body.get("associations") or []
            self.table(kind)[object_id] = record
            for association in record["associations"]:
                target = str(association["to"]["id"])
                to_type = "companies" if target in self.table("companies") else "deals"
                self._link(kind, object_id, to_type, target, [t.get("associationTypeId") for t in association["types"]])
            return Response(201, record)

    def update(self, request: Request, kind: str, object_id: str) -> Response:
        body = request.json() or {}
        with self.lock:
            record = self.table(kind).get(object_id)
            if record is None:
                return self._missing(object_id)
            record["properties"].update(body.get("properties") or {})
            record["updatedAt"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            return Response(200, record)

    def search(self, request: Request, kind: str) -> Response:
        body = request.json() or {}
        groups = body.get("filterGroups") or [{"filters": []}]
        with self.lock:
            found = [r for r in self.table(kind).values()
                     if any(all(f.get("operator") == "EQ" and str(r["properties"].get(f["propertyName"])) == f["value"]
                                for f in group.get("filters", [])) for group in groups)]
        limit = int(body.get("limit") or 10)
        return Response(200, {"total": len(found), "results": found[:limit]})

    def not_found(self, request: Request) -> Response:
        return error(404, "OBJECT_NOT_FOUND", f"No route for {request.method} {request.path}")

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        return error(400, "VALIDATION_ERROR", f"Invalid input JSON: {'; '.join(problems)}")

    def rate_limited(self, retry_after: float | None) -> Response:
        body = error(429, "RATE_LIMITS", "You have reached your secondly limit.", retry_after_headers(retry_after))
        body.body["policyName"] = "SECONDLY"
        return body

    def server_error(self, status: int = 500) -> Response:
        return error(status, "INTERNAL_ERROR", "internal error")
