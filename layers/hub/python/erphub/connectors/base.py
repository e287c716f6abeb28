"""What every connector shares: its configuration, credentials read lazily from Secrets Manager, one client."""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import re
from datetime import date
from typing import Any, ClassVar

import requests

from erphub.connectors.credentials import ConnectorConfig, load_credentials, require
from erphub.connectors.http import HttpClient
from erphub.errors import HubError


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

    def secret(self, *keys: str) -> list[str]:
        """Credential fields, read at each request so that a re-read secret takes effect at once."""
        return require(self.credentials, self.system, *keys)

    def reread_credentials(self) -> None:
        """A static key the vendor refuses (401) may have been rotated: refresh the secrets cache from Secrets
        Manager and read through it again (nothing is pinned on the instance, so later rotations still arrive).
        If it cannot be read, the cached one stays and the vendor's refusal is what the caller sees."""
        with contextlib.suppress(HubError):
            load_credentials(self.config, force=True)
            self._credentials = None

    def client(self, **kwargs: Any) -> HttpClient:
        options = {"reauthenticate": self.reread_credentials, **self.config.client_options(), **kwargs}
        return HttpClient(self.system, self.config.base_url, session=self._session, **options)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def external_key(value: str, max_length: int = 80) -> str:
    """An idempotency key made safe to use as a vendor external id (URL path segment, key column)."""
    cleaned = _UNSAFE.sub("-", value)
    if len(cleaned) <= max_length and cleaned == value:
        return cleaned
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]  # keeps distinct keys distinct after cleaning
    return f"{cleaned[: max_length - 17]}-{digest}"


def add_months(day: date, months: int) -> date:
    """Calendar arithmetic as billing systems do it: the same day of the month, or the month's last day if the
    month is shorter (Jan 31 + 1 month = Feb 28/29)."""
    year, month = divmod(day.month - 1 + months, 12)
    last = calendar.monthrange(day.year + year, month + 1)[1]
    return day.replace(year=day.year + year, month=month + 1, day=min(day.day, last))


def short_key(value: str, max_length: int) -> str:
    """A key fitted into a vendor field of max_length: kept if it fits, else a prefix plus a digest (distinct keys
    stay distinct; the same key always gives the same value, so a lookup finds what an earlier call created)."""
    if len(value) <= max_length:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:10]
    return f"{value[: max_length - 11]}~{digest}"
