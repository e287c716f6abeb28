"""A client-credentials token endpoint (RFC 6749 §4.4) shared by the Salesforce and Entra ID sandboxes."""

from __future__ import annotations

import secrets
import threading

from local.sandbox.core import Request, Response


class TokenIssuer:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens: set[str] = set()
        self._lock = threading.Lock()

    def issue(self, request: Request, extra: dict[str, object] | None = None,
              invalid_status: int = 400, description: str = "invalid client credentials") -> Response:
        form = dict(request.form())
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Response(invalid_status, {"error": "invalid_client", "error_description": description})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return Response(200, {"access_token": token, "token_type": "Bearer", **(extra or {})})

    def revoke_all(self) -> None:
        """Every issued token becomes stale, as when a session times out or an admin revokes it."""
        with self._lock:
            self.tokens.clear()

    def valid(self, token: str) -> bool:
        with self._lock:
            return token in self.tokens
