"""OAuth 1.0a request signing as NetSuite token-based authentication (TBA) documents it.

Signature base string = METHOD & enc(base URL without query) & enc(sorted, encoded oauth_* and query
parameters); key = enc(consumer secret) & enc(token secret); HMAC-SHA256, base64. The realm (the account
id, e.g. 1234567_SB1) goes into the Authorization header but not into the base string. Percent encoding
is RFC 3986 (RFC 5849 §3.6): only unreserved characters stay as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit


def enc(value: object) -> str:
    return quote(str(value), safe="~-._")


def base_url(url: str) -> str:
    """Scheme and host lower case, default ports dropped, no query or fragment (RFC 5849 §3.4.1.2)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in {("http", 80), ("https", 443)} else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def signature_base_string(method: str, url: str, oauth_params: Mapping[str, str],
                          query: Mapping[str, Any] | None = None) -> str:
    pairs = [(k, v) for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    pairs += [(k, str(v)) for k, v in (query or {}).items()]
    pairs += [(k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
    return "&".join((method.upper(), enc(base_url(url)), enc(normalized)))


def sign(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class TokenCredentials:
    account_id: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str

    @property
    def realm(self) -> str:
        return self.account_id.upper().replace("-", "_")


def authorization_header(creds: TokenCredentials, method: str, url: str, query: Mapping[str, Any] | None = None,
                         *, nonce: str | None = None, timestamp: int | None = None) -> str:
    params = {
        "oauth_consumer_key": creds.consumer_key,
        "oauth_token": creds.token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_version": "1.0",
    }
    params["oauth_signature"] = sign(signature_base_string(method, url, params, query),
                                     creds.consumer_secret, creds.token_secret)
    fields = [f'realm="{creds.realm}"'] + [f'{k}="{enc(v)}"' for k, v in params.items()]
    return "OAuth " + ", ".join(fields)
