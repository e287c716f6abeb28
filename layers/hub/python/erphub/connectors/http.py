"""The HTTP client every connector shares: timeouts, vendor error bodies turned into typed errors, and a
small bounded in-call retry for 429/5xx/timeouts. Long-term retrying belongs to the state machines, so
after a few quick attempts (or when the server asks us to wait longer than we may) the typed error is raised.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from erphub.errors import Conflict, HubError, NotFound, Permanent, RateLimited, Transient, ValidationFailed
from erphub.kpis import vendor_calls
from erphub.observability import emit_safely

# Verbs a server treats as idempotent; a POST is retried only when it carries an idempotency key.
SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class VendorError:
    """What a vendor's error body says, in its own words."""

    message: str
    code: str = ""
    existing_id: str | None = None


ErrorParser = Callable[[requests.Response], VendorError]
# A vendor hook that recognises special cases (e.g. a limit error sent as 400); None means "use the status".
ErrorClassifier = Callable[[requests.Response, VendorError], HubError | None]
AuthHook = Callable[[str, str, Mapping[str, Any] | None], Mapping[str, str]]
# Called once when the server answers 401: drop the cached token (OAuth) or re-read a rotated key, so the next
# attempt authenticates afresh. The refused request was never processed, so resending it is safe for every verb.
Reauthenticate = Callable[[], None]


def system_kind(vendor: str) -> str:
    """The kind of system a vendor plays (netsuite -> erp): the `system` dimension of the adapter metrics."""
    from erphub.workflows.systems import VENDORS

    return next((kind for kind, vendors in VENDORS.items() if vendor in vendors), vendor)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def default_error_parser(response: requests.Response) -> VendorError:
    body = json_or_none(response)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error") or ""
        return VendorError(str(message) or response.reason or "", str(body.get("code", "")))
    return VendorError((response.text or response.reason or "")[:500])


def error_for(system: str, response: requests.Response, vendor: VendorError, record: str = "") -> HubError:
    """Map a status code to the typed error the state machines match (DESIGN.md rule 9)."""
    status = response.status_code
    reason = f"{system} {status} {vendor.code}: {vendor.message}".replace("  ", " ").strip()
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited(reason, retry_after=retry_after, system=system, record=record)
    if status >= 500 or status == 408:
        return Transient(reason, system=system, record=record)
    if status == 404:
        return NotFound(reason, system=system, record=record)
    if status in (409, 412):
        return Conflict(reason, existing_id=vendor.existing_id, system=system, record=record)
    if status in (400, 422):
        return ValidationFailed(reason, system=system, record=record)
    return Permanent(reason, system=system, record=record)


def vendor_session(base_url: str) -> requests.Session:
    """A session that reads the environment once, for the vendor's host, instead of on every request.

    requests does that reading per request when `trust_env` is on: it walks the whole environment for proxy
    variables and looks for a .netrc file (3-4 stat calls), ~0.4 ms of CPU per request with a hundred variables
    (the local stack's process). A function's environment does not change while it runs, so requests' own
    reading (HTTP(S)_PROXY unless NO_PROXY names the host, REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE) is done here,
    once; no .netrc credentials are ever sent (a vendor's credentials come from Secrets Manager). A client whose
    token endpoint is on another host (OAuth) reaches it through the same proxy as its API."""
    session = requests.Session()
    found = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(found["proxies"])
    session.verify = found["verify"]
    session.trust_env = False
    return session


class HttpClient:
    """One vendor's HTTP client. `auth` is called on every attempt (OAuth 1.0a needs a fresh nonce each time)."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        auth: AuthHook | None = None,
        error_parser: ErrorParser = default_error_parser,
        classify: ErrorClassifier | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
        max_retry_wait: float = 5.0,
        backoff: float = 0.2,
        session: requests.Session | None = None,
        reauthenticate: Reauthenticate | None = None,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.error_parser = error_parser
        self.classify = classify
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, max_attempts)
        self.max_retry_wait = max_retry_wait
        self.backoff = backoff
        self.session = session or vendor_session(self.base_url)
        self.reauthenticate = reauthenticate
        self.attempts = 0  # total HTTP attempts made, for tests and metrics
        self.kind = system_kind(system)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        record: str = "",
        expect: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send, retrying quickly where that is safe; return the 2xx response (or a status in `expect`)."""
        method = method.upper()
        repeatable = method in SAFE_TO_REPEAT or idempotency_key is not None
        url = self.url(path)
        attempt, refreshed = 0, False
        while True:
            attempt += 1
            self.attempts += 1
            started = time.monotonic()
            error = self._attempt(method, url, params, json, data, headers, record, expect)
            self._observe(started, error)
            if isinstance(error, requests.Response):
                return error
            if getattr(error, "status", None) == 401 and self.reauthenticate is not None and not refreshed:
                refreshed = True  # once: a second 401 with a fresh token is a real refusal
                self.reauthenticate()
                continue
            wait = self._wait_before_retry(error, attempt, repeatable)
            if wait is None:
                emit_safely("adapter_errors", system=self.kind, kind=type(error).__name__.lower())
                raise error
            time.sleep(wait)

    def _attempt(self, method, url, params, json, data, headers, record, expect) -> requests.Response | HubError:
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.auth is not None:
            all_headers.update(self.auth(method, url, params))
        try:
            response = self.session.request(
                method, url, params=params, json=json, data=data, headers=all_headers, timeout=self.timeout
            )
        except requests.Timeout as exc:
            return Transient(f"{self.system} timed out: {exc}", system=self.system, record=record)
        except requests.ConnectionError as exc:
            return Transient(f"{self.system} unreachable: {exc}", system=self.system, record=record)
        if response.ok or response.status_code in expect:
            return response
        vendor = self.error_parser(response)
        special = self.classify(response, vendor) if self.classify else None
        error = special or error_for(self.system, response, vendor, record)
        error.status = response.status_code  # type: ignore[attr-defined]
        return error

    def _observe(self, started: float, outcome: requests.Response | HubError) -> None:
        """Every attempt is a call with its latency; a 429 is also a throttle (per system kind, not vendor, so
        the dashboard and alarms hold whichever vendor is deployed)."""
        emit_safely("adapter_latency", (time.monotonic() - started) * 1000, "Milliseconds", system=self.kind)
        emit_safely("adapter_calls", system=self.kind)
        if isinstance(outcome, RateLimited):
            emit_safely("adapter_throttled", system=self.kind)
        # the KPIs' error rate per vendor (never raises); reserve: what a next attempt could take
        vendor_calls.record(self.system, outcome, reserve=sum(self.timeout) + self.max_retry_wait)

    def _wait_before_retry(self, error: HubError, attempt: int, repeatable: bool) -> float | None:
        if not isinstance(error, Transient) or not repeatable or attempt >= self.max_attempts:
            return None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            # honour the server; if it asks for longer than we may wait in-call, hand over to the state machine
            return error.retry_after if error.retry_after <= self.max_retry_wait else None
        return min(self.backoff * (2 ** (attempt - 1)), self.max_retry_wait)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return json_or_none(response) if response.content else None
