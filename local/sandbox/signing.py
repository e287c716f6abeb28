"""The mirror image of each source's verifier: the headers (and body) a vendor would send.

Used by tests, benchmarks and `erphub send`. Pure Python; no AWS. `credentials` is the source's secret as
stored ({"current", "previous", "username", "organization_ids", "mode"}); the secret used is `current`
unless `secret=` names another (e.g. the `previous` one during a rotation).

Options per source:
- stripe:     secrets=[...] signs with several secrets (one v1 each, as during Stripe's secret roll).
- hubspot:    version="v3" (default) | "v2" | "v1".
- salesforce: organization_id=... (default: the first allowed one) is written into the SOAP body; the
              token travels in the endpoint URL: build it with endpoint_url().
- zuora:      mode="basic" | "hmac" (default: credentials["mode"] or basic), notification_id=...
- every source: secret=... overrides the secret used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

Headers = dict[str, str]
JSON = "application/json"


def sign(
    source: str,
    body: bytes,
    credentials: dict[str, Any],
    url: str,
    method: str = "POST",
    now: datetime | float | None = None,
    **options: Any,
) -> tuple[Headers, bytes]:
    signer = _SIGNERS.get(source)
    if signer is None:
        raise ValueError(f"no signer for source {source!r}; known: {', '.join(sorted(_SIGNERS))}")
    moment = now.timestamp() if isinstance(now, datetime) else (time.time() if now is None else float(now))
    secret = options.pop("secret", None) or credentials.get("current", "")
    return signer(body, credentials, secret, url, method.upper(), moment, options)


def endpoint_url(source: str, url: str, credentials: dict[str, Any], secret: str | None = None) -> str:
    """The URL the vendor is configured to call: for Salesforce, with ?token=<secret> appended."""
    if source != "salesforce":
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "token"]
    query.append(("token", secret or credentials["current"]))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _stripe(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
            options: dict[str, Any]) -> tuple[Headers, bytes]:
    timestamp = str(int(now))
    secrets = options.get("secrets") or [secret]
    v1 = [hmac.new(s.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest() for s in secrets]
    header = ",".join([f"t={timestamp}", *(f"v1={sig}" for sig in v1)])
    return {"Content-Type": JSON, "Stripe-Signature": header}, body


_V3_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
              "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def _hubspot(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
             options: dict[str, Any]) -> tuple[Headers, bytes]:
    version = options.get("version", "v3")
    headers = {"Content-Type": JSON}
    if version == "v3":
        timestamp = str(int(now * 1000))
        uri = re.sub(r"%[0-9A-Fa-f]{2}", lambda m: _V3_DECODE.get(m.group(0).upper(), m.group(0)), url)
        message = method.encode() + uri.encode() + body + timestamp.encode()
        digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
        headers["X-HubSpot-Signature-v3"] = base64.b64encode(digest).decode()
        headers["X-HubSpot-Request-Timestamp"] = timestamp
    elif version == "v2":
        headers["X-HubSpot-Signature-Version"] = "v2"
        headers["X-HubSpot-Signature"] = hashlib.sha256(secret.encode() + method.encode() + url.encode()
                                                        + body).hexdigest()
    elif version == "v1":
        headers["X-HubSpot-Signature-Version"] = "v1"
        headers["X-HubSpot-Signature"] = hashlib.sha256(secret.encode() + body).hexdigest()
    else:
        raise ValueError(f"hubspot: unknown signature version {version!r}")
    return headers, body


_ORGANIZATION = re.compile(rb"(<OrganizationId>)[^<]*(</OrganizationId>)")


def _salesforce(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
                options: dict[str, Any]) -> tuple[Headers, bytes]:
    organizations = creds.get("organization_ids") or []
    if isinstance(organizations, str):
        organizations = [o.strip() for o in organizations.split(",") if o.strip()]
    organization = options.get("organization_id") or (organizations[0] if organizations else None)
    if organization:
        body = _ORGANIZATION.sub(lambda m: m.group(1) + organization.encode() + m.group(2), body)
    if "token=" not in urlsplit(url).query:
        raise ValueError("salesforce: the token travels in the endpoint URL; build the URL with endpoint_url()")
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}, body


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _chargebee(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
               options: dict[str, Any]) -> tuple[Headers, bytes]:
    return {"Content-Type": JSON, "Authorization": _basic(creds.get("username", ""), secret)}, body


def _zuora(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
           options: dict[str, Any]) -> tuple[Headers, bytes]:
    mode = (options.get("mode") or creds.get("mode") or "basic").lower()
    headers = {
        "Content-Type": JSON,
        "Zuora-Notification-Id": options.get("notification_id") or uuid.uuid4().hex,
        "Zuora-Request-Id": uuid.uuid4().hex,
    }
    if mode == "hmac":
        headers["X-Zuora-Signature"] = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()
                                                        ).decode()
    else:
        headers["Authorization"] = _basic(creds.get("username", ""), secret)
    return headers, body


def _gainsight(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
               options: dict[str, Any]) -> tuple[Headers, bytes]:
    return {"Content-Type": JSON, "X-Gainsight-Token": secret}, body


def _totango(body: bytes, creds: dict[str, Any], secret: str, url: str, method: str, now: float,
             options: dict[str, Any]) -> tuple[Headers, bytes]:
    return {"Content-Type": JSON, "X-Totango-Token": secret}, body


_SIGNERS: dict[str, Callable[..., tuple[Headers, bytes]]] = {
    "stripe": _stripe,
    "hubspot": _hubspot,
    "salesforce": _salesforce,
    "chargebee": _chargebee,
    "zuora": _zuora,
    "gainsight": _gainsight,
    "totango": _totango,
}

SOURCES = tuple(sorted(_SIGNERS))  # every source a webhook can be signed for: what `erphub send` and smoke accept
