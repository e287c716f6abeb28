"""Zuora's ZOQL query action (`POST /v1/action/query` with `{"queryString"}`), for the Usage object only and only
the subset the hub sends: `select <fields> from Usage where <field> = '<value>' [and <field> = '<value>' ...]`.
The answer is Zuora's QueryResult: `{"records": [...], "size", "done"}`, with only the selected fields; a query
this sandbox does not understand is refused as Zuora refuses a malformed ZOQL query (`success: false`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from local.sandbox.core import Request, Response

if TYPE_CHECKING:
    from local.sandbox.zuora import Zuora

SELECT = re.compile(r"^\s*select\s+(?P<fields>[\w\s,]+?)\s+from\s+(?P<object>\w+)"
                    r"(?:\s+where\s+(?P<where>.+?))?\s*$", re.IGNORECASE | re.DOTALL)
CONDITION = re.compile(r"^\s*(?P<field>\w+)\s*=\s*'(?P<value>[^'\\]*)'\s*$")
QUERYABLE = {"usage": "usage"}


def malformed(message: str) -> Response:
    from local.sandbox.zuora import failure

    return failure(50000020, f"You have an error in your ZOQL syntax: {message}")


def query(vendor: Zuora, request: Request) -> Response:
    text = str((request.json() or {}).get("queryString") or "")
    match = SELECT.match(text)
    if match is None or match["object"].lower() not in QUERYABLE:
        return malformed(text[:200])
    fields = [f.strip() for f in match["fields"].split(",") if f.strip()]
    conditions: dict[str, str] = {}
    for clause in re.split(r"\s+and\s+", match["where"] or "", flags=re.IGNORECASE) if match["where"] else []:
        found = CONDITION.match(clause)
        if found is None:
            return malformed(clause[:200])
        conditions[found["field"]] = found["value"]
    with vendor.lock:
        rows = [dict(r) for r in vendor.table(QUERYABLE[match["object"].lower()]).values()]
    records: list[dict[str, Any]] = [{f: r[f] for f in fields if f in r} for r in rows
                                     if all(str(r.get(k)) == v for k, v in conditions.items())]
    return Response(200, {"records": records, "size": len(records), "done": True})
