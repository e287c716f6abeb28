"""What every SAP S/4HANA Cloud OData V2 call shares: the CSRF handshake, SAP's error body, ETags and keys.

SAP Gateway refuses a modifying request (POST/PATCH/DELETE) unless it carries an `x-csrf-token` fetched by a
GET with `x-csrf-token: Fetch` in the same session (its cookies). A token that expired answers 403 with
`x-csrf-token: Required` and "CSRF token validation failed": the connector fetches a new one, once.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from erphub.connectors.http import HttpClient, VendorError, json_or_none, parse_retry_after
from erphub.errors import Conflict, HubError, Permanent, RateLimited

ODATA = "/sap/opu/odata/sap"


class CsrfRejected(Permanent):
    """403 "CSRF token validation failed": the token or the session behind it expired."""


class Changed(Conflict):
    """412 Precondition Failed: the entity changed since it was read (its ETag is not the If-Match sent)."""


def parse_error(response: requests.Response) -> VendorError:
    """{"error": {"code": "...", "message": {"lang": "en", "value": "..."}, "innererror": {...}}}"""
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        text = message.get("value", "") if isinstance(message, dict) else str(message or "")
        details = ((error.get("innererror") or {}).get("errordetails") or []) if isinstance(error, dict) else []
        extra = "; ".join(str(d.get("message", "")) for d in details if isinstance(d, dict) and d.get("message"))
        text = f"{text} ({extra})" if extra and extra not in text else text
        return VendorError(str(text), str(error.get("code", "")))
    return VendorError((response.text or response.reason or "")[:300])


def classify(response: requests.Response, vendor: VendorError) -> HubError | None:
    status = response.status_code
    if status == 403 and response.headers.get("x-csrf-token", "").lower() == "required":
        return CsrfRejected(f"sap 403: {vendor.message or 'CSRF token validation failed'}", system="sap")
    if status == 412:
        return Changed(f"sap 412 {vendor.code}: {vendor.message}".strip(), system="sap")
    if status == 503 and response.headers.get("Retry-After"):
        # an overloaded tenant says when to come back: honoured like a 429
        return RateLimited(f"sap 503 {vendor.code}: {vendor.message}".strip(),
                           retry_after=parse_retry_after(response.headers.get("Retry-After")), system="sap")
    return None


def service_root(url: str) -> str:
    """https://host/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder -> .../API_SALES_ORDER_SRV/"""
    parts = urlsplit(url)
    below = parts.path.split(f"{ODATA}/", 1)
    service = below[1].split("/", 1)[0] if len(below) == 2 else ""
    return f"{parts.scheme}://{parts.netloc}{below[0]}{ODATA}/{service}/"


class CsrfTokens:
    """One token per service root, fetched lazily and dropped when SAP refuses it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}

    def token(self, http: HttpClient, url: str) -> str:
        root = service_root(url)
        with self._lock:
            if root in self._tokens:
                return self._tokens[root]
        response = http.request("GET", root, headers={"x-csrf-token": "Fetch"}, record=root)
        token = response.headers.get("x-csrf-token", "")
        if not token or token.lower() == "required":
            raise Permanent(f"sap gave no CSRF token for {root}", system="sap", record=root)
        with self._lock:
            self._tokens[root] = token
        return token

    def invalidate(self) -> None:
        with self._lock:
            self._tokens.clear()


def literal(value: str) -> str:
    """An OData V2 string literal in a URL: quotes doubled, then percent-encoded."""
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


def entity_key(entity_set: str, **keys: str) -> str:
    if len(keys) == 1:
        return f"{entity_set}({literal(next(iter(keys.values())))})"
    return f"{entity_set}(" + ",".join(f"{name}={literal(value)}" for name, value in keys.items()) + ")"


def eq_filter(field: str, value: str) -> str:
    return f"{field} eq '{value.replace(chr(39), chr(39) * 2)}'"


def results(body: Any) -> list[dict[str, Any]]:
    """OData V2 JSON: a collection is {"d": {"results": [...]}}."""
    data = (body or {}).get("d") or {}
    return list(data.get("results") or []) if isinstance(data, dict) else []


def entity(body: Any) -> dict[str, Any]:
    data = (body or {}).get("d")
    return data if isinstance(data, dict) else {}


def price_condition(item: dict[str, Any]) -> dict[str, Any] | None:
    """An item's PR00 pricing element (the price the integration sets)."""
    return next((p for p in results({"d": item.get("to_PricingElement")}) if p.get("ConditionType") == "PR00"), None)


def amount(value: Any) -> str:
    """Edm.Decimal travels as a JSON string in OData V2."""
    return format(value, "f") if not isinstance(value, str) else value
