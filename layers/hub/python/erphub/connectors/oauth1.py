"""OAuth 1.0a request signing as NetSuite token-based authentication (TBA) documents it, done by oauthlib (the
protocol library under requests-oauthlib): HMAC-SHA256, the account id as realm (in the Authorization header,
not in the signature base string), query parameters signed, a fresh nonce and timestamp for every attempt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client


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
    """The `Authorization: OAuth realm=..., oauth_...` value for one request (query as requests will send it)."""
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(list(query.items()))}"
    client = Client(creds.consumer_key, client_secret=creds.consumer_secret, resource_owner_key=creds.token_id,
                    resource_owner_secret=creds.token_secret, signature_method=SIGNATURE_HMAC_SHA256,
                    realm=creds.realm, nonce=nonce, timestamp=None if timestamp is None else str(timestamp))
    _, headers, _ = client.sign(url, http_method=method.upper())
    return str(headers["Authorization"])
