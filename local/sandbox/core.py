"""The sandbox's machinery shared by every vendor: requests and responses, the record store, injected
faults, the concurrency gate and idempotency replay. Vendor modules only speak their API."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

FAULT_KINDS = ("429", "500", "503", "timeout", "latency")


@dataclass
class Request:
    method: str
    path: str  # below the vendor prefix, e.g. /v1/customers
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str  # the full URL as the client addressed it (for signatures)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)

    def arg(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def bearer(self) -> str:
        value = self.header("authorization")
        return value[7:].strip() if value.lower().startswith("bearer ") else ""

    def basic_user(self) -> str:
        value = self.header("authorization")
        if not value.lower().startswith("basic "):
            return ""
        try:
            return base64.b64decode(value[6:]).decode().split(":", 1)[0]
        except ValueError:
            return ""


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body, default=str).encode()


@dataclass
class Fault:
    vendor: str
    operation: str | None
    kind: str
    times: int = 1
    retry_after: float | None = 1
    seconds: float = 2.0
    after_commit: bool = False  # answer (or hang) only after the request has changed the records

    def matches(self, vendor: str, operation: str, after_commit: bool) -> bool:
        return (self.times > 0 and self.vendor == vendor and self.after_commit == after_commit
                and (self.operation is None or self.operation == operation))


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.release = threading.Event()  # set on stop/reset: hanging requests give up at once

    def inject(self, vendor: str, operation: str | None = None, kind: str = "500", times: int = 1,
               retry_after: float | None = 1, seconds: float = 2.0, after_commit: bool = False) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
        fault = Fault(vendor, operation, kind, times, retry_after, seconds, after_commit)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, vendor: str, operation: str, after_commit: bool) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(vendor, operation, after_commit):
                    fault.times -= 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self.release.set()
        self.release = threading.Event()


class Gate:
    """Counts requests in flight per vendor, refuses those beyond a limit, remembers the peak, and how busy the
    vendor was: the requests it admitted, the first and the last moment one was in flight (epoch seconds, so
    another process can compare them with its own clock) and the sum of requests in flight over time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.limits: dict[str, int] = {}
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.admitted: dict[str, int] = {}
        self._busy: dict[str, list[float]] = {}  # vendor -> [first, last change, request-seconds in flight]

    def enter(self, vendor: str) -> bool:
        with self._lock:
            limit = self.limits.get(vendor)
            if limit is not None and self.in_flight.get(vendor, 0) >= limit:
                self.refused[vendor] = self.refused.get(vendor, 0) + 1
                return False
            self._account(vendor)
            now = self.in_flight[vendor] = self.in_flight.get(vendor, 0) + 1
            self.max_in_flight[vendor] = max(self.max_in_flight.get(vendor, 0), now)
            self.admitted[vendor] = self.admitted.get(vendor, 0) + 1
            return True

    def leave(self, vendor: str) -> None:
        with self._lock:
            self._account(vendor)
            self.in_flight[vendor] -= 1

    def _account(self, vendor: str) -> None:
        """Before in_flight changes: the time since the last change counts at the old number."""
        now = time.time()
        busy = self._busy.setdefault(vendor, [now, now, 0.0])
        busy[2] += self.in_flight.get(vendor, 0) * (now - busy[1])
        busy[1] = now

    def occupancy(self, vendor: str) -> dict[str, float] | None:
        """{"first", "last", "mean_in_flight"}: from the first request to the last change, None before any."""
        with self._lock:
            if vendor not in self._busy:
                return None
            first, last, area = self._busy[vendor]
            return {"first": first, "last": last, "mean_in_flight": area / (last - first) if last > first else 0.0}

    def reset(self) -> None:
        with self._lock:
            self.max_in_flight = {k: v for k, v in self.in_flight.items() if v}
            self.refused.clear()
            self.admitted.clear()
            self._busy.clear()


class IdempotencyCache:
    """Replays the first response for a key; the same key with other parameters is an error (Stripe's rule)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, tuple[str, Response]] = {}
        self._running: set[str] = set()

    def run(self, key: str, request: Request, handler: Callable[[Request], Response],
            mismatch: Callable[[], Response], in_progress: Callable[[], Response]) -> Response:
        fingerprint = hashlib.sha256(request.method.encode() + request.path.encode() + request.body).hexdigest()
        with self._lock:
            if key in self._done:
                saved_print, saved = self._done[key]
                if saved_print != fingerprint:
                    return mismatch()
                return Response(saved.status, saved.body, {**saved.headers, "Idempotent-Replayed": "true"})
            if key in self._running:
                return in_progress()
            self._running.add(key)
        try:
            response = handler(request)
            with self._lock:
                self._done[key] = (fingerprint, response)
            return response
        finally:
            with self._lock:
                self._running.discard(key)

    def clear(self) -> None:
        with self._lock:
            self._done.clear()

    def dump(self) -> dict[str, Any]:
        """The replayable responses, as JSON (for `erphub up --state`): a retried create stays one create."""
        with self._lock:
            return {key: {"fingerprint": fingerprint, "status": r.status, "body": _jsonable_body(r.body),
                          "headers": r.headers, "content_type": r.content_type}
                    for key, (fingerprint, r) in self._done.items()}

    def load(self, dumped: dict[str, Any]) -> None:
        with self._lock:
            self._done = {key: (d["fingerprint"], Response(d["status"], _body_from_json(d["body"]), d["headers"],
                                                            d["content_type"]))
                          for key, d in dumped.items()}


class Vendor:
    """A vendor's API in the sandbox. Subclasses define credentials, auth, routing and their error bodies."""

    name = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.base_url = ""

    def table(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.records.setdefault(kind, {})

    def reset(self) -> None:
        with self.lock:
            self.records.clear()

    def state(self) -> dict[str, Any]:
        """Records, id counters and idempotency caches as JSON, to survive a restart (`erphub up --state`)."""
        with self.lock:
            counters = {}
            for name, value in vars(self).items():
                if isinstance(value, itertools.count):  # read by taking the next id and starting again there
                    counters[name] = next(value)
                    setattr(self, name, itertools.count(counters[name]))
            caches = {name: value.dump() for name, value in vars(self).items() if isinstance(value, IdempotencyCache)}
            return json.loads(json.dumps({"records": self.records, "counters": counters, "idempotency": caches}))

    def load_state(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.records = state.get("records", {})
            for name, start in state.get("counters", {}).items():
                if isinstance(getattr(self, name, None), itertools.count):
                    setattr(self, name, itertools.count(start))
            for name, dumped in state.get("idempotency", {}).items():
                cache = getattr(self, name, None)
                if isinstance(cache, IdempotencyCache):
                    cache.load(dumped)

    def seed(self, kind: str, record: dict[str, Any]) -> str:
        record_id = str(record.get("id") or new_id())
        self.table(kind)[record_id] = {**record, "id": record_id}
        return record_id

    def credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    def authenticate(self, request: Request) -> Response | None:
        """None when the request is authenticated, else the vendor's own refusal."""
        raise NotImplementedError

    def route(self, request: Request) -> tuple[str, Callable[[Request], Response]] | None:
        """(operation name, handler) for the request, or None when the path is not part of the API."""
        raise NotImplementedError

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": f"no route {request.method} {request.path}"})

    def rate_limited(self, retry_after: float | None) -> Response:
        raise NotImplementedError

    def contract_refusal(self, request: Request, problems: list[str]) -> Response:
        """The vendor's 400 for a request outside its published API (see local/sandbox/contracts.py)."""
        raise NotImplementedError

    def concurrency_refused(self) -> Response:
        return self.rate_limited(1)

    def server_error(self, status: int = 500) -> Response:
        raise NotImplementedError


def _jsonable_body(body: Any) -> Any:
    return {"$base64": base64.b64encode(body).decode()} if isinstance(body, bytes) else body


def _body_from_json(body: Any) -> Any:
    return base64.b64decode(body["$base64"]) if isinstance(body, dict) and set(body) == {"$base64"} else body


def new_id(prefix: str = "", length: int = 14) -> str:
    return prefix + uuid.uuid4().hex[:length]


def retry_after_headers(retry_after: float | None) -> dict[str, str]:
    if retry_after is None:
        return {}
    return {"Retry-After": str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)}


def path_parts(path: str) -> list[str]:
    return [unquote(p) for p in path.strip("/").split("/") if p]
