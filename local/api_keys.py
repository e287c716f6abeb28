"""API Gateway's API-key check and usage-plan limits, for the local gateway: a route whose API (or event) says
`Auth: ApiKeyRequired: true` needs an `x-api-key` of the usage plan, and each key is held to the plan's throttle
(token bucket: `RateLimit` per second refills it, `BurstLimit` is its size) and quota (`Limit` per `Period`).

Answers as the template's gateway responses make API Gateway answer (INVALID_API_KEY -> 401, THROTTLED and
QUOTA_EXCEEDED -> 429 with Retry-After), in the API's error contract. Keys come from local/dev-api-keys.json.
"""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

KEYS_FILE = Path(__file__).with_name("dev-api-keys.json")
PERIOD_SECONDS = {"DAY": 86400, "WEEK": 7 * 86400, "MONTH": 30 * 86400}
QUOTA_RETRY_AFTER = "3600"  # the template's QUOTA_EXCEEDED gateway response says the same


@dataclass(frozen=True)
class UsagePlan:
    """A usage plan's limits; they apply per API key across every route of the plan's API (`api`)."""

    api: str = ""
    rate: float | None = None  # requests per second; None = not throttled by the plan
    burst: int | None = None
    quota: int | None = None
    period: str = "DAY"


@dataclass
class _Bucket:
    tokens: float
    at: float
    used: int = 0
    window: int = 0


@dataclass
class ApiKeys:
    plans: dict[tuple[str, str], UsagePlan]  # (function id, event name) of a route that needs a key -> its plan
    keys: dict[str, str] = field(default_factory=dict)  # key value -> key id
    clock: Any = time.monotonic
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_template(cls, template: Any, keys_file: Path = KEYS_FILE) -> ApiKeys:
        plans: dict[tuple[str, str], UsagePlan] = {}
        functions = {lid: r for lid, r in template.sam.items() if r.get("Type") == "AWS::Serverless::Function"}
        for function_id, function in functions.items():
            for name, event in (function.get("Properties", {}).get("Events") or {}).items():
                if event.get("Type") == "Api":
                    plan = _plan_of(template, event.get("Properties") or {})
                    if plan is not None:
                        plans[(function_id, name)] = plan
        found = json.loads(keys_file.read_text(encoding="utf-8"))["keys"] if keys_file.exists() else []
        return cls(plans, {k["value"]: k["id"] for k in found})

    def check(self, route: Any, headers: Any, request_id: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """None to let the request through, else API Gateway's answer."""
        plan = self.plans.get((route.function_id, route.event_name))
        if plan is None:
            return None
        key_id = self.key_id(headers.get("x-api-key") or "")
        if key_id is None:
            return _answer(401, "Unauthorized", "a valid API key is required in the x-api-key header",
                           "api_key_invalid", request_id, [("WWW-Authenticate", 'ApiKey header="x-api-key"')])
        refused = self._spend(key_id, plan)
        if refused is None:
            return None
        code, retry_after = refused
        message = ("over the usage plan daily quota for this API key" if code == "quota_exceeded"
                   else "over the usage plan rate for this API key")
        return _answer(429, "TooManyRequests", message, code, request_id, [("Retry-After", retry_after)])

    def identify(self, route: Any, headers: Any, event: dict[str, Any]) -> None:
        """As API Gateway does for a method that requires a key: the key and its id in requestContext.identity."""
        if (route.function_id, route.event_name) in self.plans:
            value = headers.get("x-api-key") or ""
            event["requestContext"]["identity"].update(apiKey=value, apiKeyId=self.key_id(value))

    def key_id(self, value: str) -> str | None:
        """The id of a known key, compared in constant time."""
        found = None
        for known, key_id in self.keys.items():
            if hmac.compare_digest(known.encode(), value.encode()):
                found = key_id
        return found

    def _spend(self, key_id: str, plan: UsagePlan) -> tuple[str, str] | None:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault((plan.api, key_id), _Bucket(float(plan.burst or 0), now))
            if plan.quota is not None:
                window = int(datetime.now(UTC).timestamp()) // PERIOD_SECONDS.get(plan.period, 86400)
                if bucket.window != window:
                    bucket.window, bucket.used = window, 0
                if bucket.used >= plan.quota:
                    return "quota_exceeded", QUOTA_RETRY_AFTER
            if plan.rate is not None and plan.burst is not None:
                bucket.tokens = min(float(plan.burst), bucket.tokens + (now - bucket.at) * plan.rate)
                bucket.at = now
                if bucket.tokens < 1:
                    return "rate_limited", str(max(1, math.ceil((1 - bucket.tokens) / plan.rate)))
                bucket.tokens -= 1
            bucket.used += 1
        return None


def _plan_of(template: Any, event: dict[str, Any]) -> UsagePlan | None:
    """The usage plan of an Api event that needs a key (the event's Auth, else its API's), None if none needed."""
    api_id, api = template.api_of(event)
    required = (event.get("Auth") or {}).get("ApiKeyRequired", (api.get("Auth") or {}).get("ApiKeyRequired", False))
    if not required:
        return None
    usage = template.resolve((api.get("Auth") or {}).get("UsagePlan") or {})
    throttle, quota = usage.get("Throttle") or {}, usage.get("Quota") or {}
    return UsagePlan(api=api_id, rate=_number(throttle.get("RateLimit")), burst=_int(throttle.get("BurstLimit")),
                     quota=_int(quota.get("Limit")), period=str(quota.get("Period") or "DAY").upper())


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _answer(status: int, error: str, message: str, code: str, request_id: str,
            extra: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
    from local.gateway import gateway_response

    body = {"error": error, "message": message, "code": code, "correlation_id": request_id}
    return gateway_response(status, body, request_id, extra)
