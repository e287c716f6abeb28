"""What every connector shares: its configuration, credentials read lazily from Secrets Manager, one client."""

from __future__ import annotations

import hashlib
import re
from typing import Any, ClassVar

import requests

from erphub.connectors.credentials import ConnectorConfig, load_credentials
from erphub.connectors.http import HttpClient


class Connector:
    system: ClassVar[str]

    def __init__(self, config: ConnectorConfig | None = None, *, credentials: dict[str, Any] | None = None,
                 session: requests.Session | None = None) -> None:
        self.config = config or ConnectorConfig.from_environ(self.system)
        self._credentials = credentials  # given: fixed (tests); None: read from Secrets Manager through the cache
        self._session = session
        self._http: HttpClient | None = None
        self._http_credentials: dict[str, Any] | None = None

    @property
    def credentials(self) -> dict[str, Any]:
        """Read through the secrets cache on every use (not kept on the instance): a warm Lambda keeps its
        connectors, so a rotated secret must reach them within the cache's max age, not at the next cold start."""
        if self._credentials is not None:
            return self._credentials
        return load_credentials(self.config)

    @property
    def http(self) -> HttpClient:
        credentials = self.credentials
        if self._http is None or credentials != self._http_credentials:
            # new credentials: a new client (and with it new OAuth tokens obtained with them)
            self._http, self._http_credentials = self.make_client(), credentials
        return self._http

    def make_client(self) -> HttpClient:
        raise NotImplementedError

    def client(self, **kwargs: Any) -> HttpClient:
        options = {**self.config.client_options(), **kwargs}
        return HttpClient(self.system, self.config.base_url, session=self._session, **options)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def external_key(value: str, max_length: int = 80) -> str:
    """An idempotency key made safe to use as a vendor external id (URL path segment, key column)."""
    cleaned = _UNSAFE.sub("-", value)
    if len(cleaned) <= max_length and cleaned == value:
        return cleaned
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]  # keeps distinct keys distinct after cleaning
    return f"{cleaned[: max_length - 17]}-{digest}"
