"""The OData V2 conventions of SAP Gateway that the SAP sandbox speaks: {"d": ...} envelopes, `results` arrays,
__metadata with an ETag per entity, $filter (eq, and), $top, $expand, keys in the path and SAP's error body."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from local.sandbox.core import Response

_KEY_PART = re.compile(r"(?:(\w+)=)?'((?:[^']|'')*)'")
_EQ = re.compile(r"^(\w+) eq '((?:[^']|'')*)'$")
_ETAGS = itertools.count(1)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """{"error": {"code", "message": {"lang", "value"}, "innererror": {...}}} as SAP Gateway answers."""
    transaction = uuid.uuid4().hex.upper()
    return Response(status, {"error": {"code": code, "message": {"lang": "en", "value": message},
                                       "innererror": {"transactionid": transaction, "errordetails": []}}},
                    headers or {})


def parse_keys(segment: str) -> tuple[str, dict[str, str]] | None:
    """A_SalesOrderItem(SalesOrder='1',SalesOrderItem='10') -> ("A_SalesOrderItem", {...}); a single unnamed key
    comes back under ""."""
    name, paren, rest = unquote(segment).partition("(")
    if not paren or not rest.endswith(")"):
        return None
    keys = {k or "": v.replace("''", "'") for k, v in _KEY_PART.findall(rest[:-1])}
    return (name, keys) if keys else None


def matches(record: dict[str, Any], odata_filter: str | None) -> bool:
    """`Field eq 'value'` clauses joined by `and`: the only filters the connector sends."""
    if not odata_filter:
        return True
    for clause in odata_filter.split(" and "):
        found = _EQ.match(clause.strip())
        if found is None or str(record.get(found.group(1), "")) != found.group(2).replace("''", "'"):
            return False
    return True


def new_etag() -> str:
    """SAP's ETags are the change timestamp, W/"datetimeoffset'2026-12-01T09%3A00%3A00.1234567Z'"; the clock's
    nanoseconds plus a counter keep two changes in one tick apart (and apart from ETags restored from --state)."""
    now, tick = time.time_ns(), next(_ETAGS) % 100
    stamp = datetime.fromtimestamp(now // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H%%3A%M%%3A%S")
    return f"W/\"datetimeoffset'{stamp}.{now % 1_000_000_000 // 100:07d}{tick:02d}Z'\""


def stamp(record: dict[str, Any], uri: str, entity_type: str) -> None:
    record["__metadata"] = {"id": uri, "uri": uri, "type": entity_type, "etag": new_etag()}


def render(record: dict[str, Any], expand: set[str], prefix: str = "") -> dict[str, Any]:
    """A stored entity as OData V2 JSON: navigation properties expanded when asked (lists as {"results": [...]}),
    else deferred."""
    shown: dict[str, Any] = {}
    for name, value in record.items():
        if not name.startswith("to_"):
            shown[name] = value
            continue
        path = f"{prefix}{name}"
        if path not in expand:
            shown[name] = {"__deferred": {"uri": f"{record.get('__metadata', {}).get('uri', '')}/{name}"}}
        elif isinstance(value, list):
            shown[name] = {"results": [render(v, expand, f"{path}/") for v in value]}
        else:
            shown[name] = render(value, expand, f"{path}/") if isinstance(value, dict) else value
    return shown


def expansions(expand: str | None) -> set[str]:
    """$expand=to_Item/to_PricingElement expands to_Item and, within it, to_PricingElement."""
    paths: set[str] = set()
    for path in (expand or "").split(","):
        steps = [s for s in path.strip().split("/") if s]
        paths |= {"/".join(steps[: n + 1]) for n in range(len(steps))}
    return paths


def precondition(record: dict[str, Any], if_match: str) -> Response | None:
    """SAP Gateway: a change without If-Match is 428, with a stale ETag 412."""
    if not if_match:
        return error(428, "/IWBEP/CM_MGW_RT/021", "Precondition required: the request has no If-Match header")
    if if_match != "*" and if_match != record["__metadata"]["etag"]:
        return error(412, "/IWBEP/CM_MGW_RT/022", "Precondition failed: the entity was changed by another user")
    return None


def one(record: dict[str, Any], expand: set[str], status: int = 200) -> Response:
    return Response(status, {"d": render(record, expand)}, {"ETag": record["__metadata"]["etag"]})


def many(records: list[dict[str, Any]], expand: set[str]) -> Response:
    return Response(200, {"d": {"results": [render(r, expand) for r in records]}})
