"""OAuth 2.0 client-credentials tokens (Salesforce, Microsoft Entra ID for Dataverse), cached until shortly
before they expire so that a warm Lambda asks for one token, not one per call."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import requests

from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.errors import Permanent


def oauth_error(response: requests.Response) -> VendorError:
    """RFC 6749 §5.2 error body: {"error": "...", "error_description": "..."}."""
    body = json_or_none(response)
    if isinstance(body, dict):
        return VendorError(str(body.get("error_description") or body.get("error") or ""), str(body.get("error", "")))
    return VendorError(response.text[:300])


class ClientCredentialsToken:
    def __init__(self, client: HttpClient, token_url: str, form: Mapping[str, str], *,
                 default_lifetime: float = 900.0, skew: float = 60.0) -> None:
        self.client = client
        self.token_url = token_url
        self.form = dict(form)
        self.default_lifetime = default_lifetime
        self.skew = skew
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.instance_url: str | None = None  # Salesforce answers with the org's instance URL

    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                return self._fetch()
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> str:
        body = self.client.json("POST", self.token_url, data={"grant_type": "client_credentials", **self.form},
                                idempotency_key="token")  # asking for a token twice is harmless
        if not isinstance(body, dict) or not body.get("access_token"):
            raise Permanent("token endpoint returned no access_token", system=self.client.system)
        lifetime = float(body.get("expires_in") or self.default_lifetime)
        self._token = str(body["access_token"])
        self._expires_at = time.monotonic() + max(0.0, lifetime - self.skew)
        self.instance_url = body.get("instance_url") or self.instance_url
        return self._token
