"""The local gateway's API-key check and usage-plan limits (local/api_keys.py), as API Gateway applies them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from local.api_keys import ApiKeys, UsagePlan
from local.template import Template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
ROUTE = SimpleNamespace(function_id="SyncApiFunction", event_name="ValidateAccount")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keys(plan: UsagePlan, clock: Clock) -> ApiKeys:
    return ApiKeys({("SyncApiFunction", "ValidateAccount"): plan}, {"secret-key": "k1"}, clock=clock)


def test_no_key_or_an_unknown_key_is_401_in_the_error_contract():
    api = keys(UsagePlan(rate=10, burst=10), Clock())
    for headers in ({}, {"x-api-key": "guess"}):
        status, response_headers, body = api.check(ROUTE, headers, "req-1")
        assert status == 401
        assert json.loads(body) == {"error": "Unauthorized", "code": "api_key_invalid", "correlation_id": "req-1",
                                    "message": "a valid API key is required in the x-api-key header"}
        assert ("WWW-Authenticate", 'ApiKey header="x-api-key"') in response_headers


def test_the_burst_then_the_rate_then_429_with_retry_after():
    clock = Clock()
    api = keys(UsagePlan(rate=2, burst=3), clock)
    # Given a full bucket of 3, three requests at once pass and the fourth is refused
    assert [api.check(ROUTE, {"x-api-key": "secret-key"}, "r") for _ in range(3)] == [None, None, None]
    status, headers, body = api.check(ROUTE, {"x-api-key": "secret-key"}, "r")
    assert status == 429 and json.loads(body)["code"] == "rate_limited" and ("Retry-After", "1") in headers
    # When half a second passes at 2 per second, one more token is there, and only one
    clock.now += 0.5
    assert api.check(ROUTE, {"x-api-key": "secret-key"}, "r") is None
    assert api.check(ROUTE, {"x-api-key": "secret-key"}, "r")[0] == 429


def test_the_quota_is_per_key_and_per_period():
    api = ApiKeys({("SyncApiFunction", "ValidateAccount"): UsagePlan(quota=2)}, {"a": "ka", "b": "kb"}, clock=Clock())
    assert api.check(ROUTE, {"x-api-key": "a"}, "r") is None and api.check(ROUTE, {"x-api-key": "a"}, "r") is None
    status, headers, body = api.check(ROUTE, {"x-api-key": "a"}, "r")
    assert status == 429 and json.loads(body)["code"] == "quota_exceeded" and ("Retry-After", "3600") in headers
    assert api.check(ROUTE, {"x-api-key": "b"}, "r") is None  # another consumer has its own quota


def test_the_limits_apply_per_key_across_every_route_of_the_api():
    plan = UsagePlan(api="SyncApi", rate=1, burst=2)
    other = SimpleNamespace(function_id="SyncApiFunction", event_name="QuoteStatus")
    api = ApiKeys({("SyncApiFunction", "ValidateAccount"): plan, ("SyncApiFunction", "QuoteStatus"): plan},
                  {"secret-key": "k1"}, clock=Clock())
    assert api.check(ROUTE, {"x-api-key": "secret-key"}, "r") is None
    assert api.check(other, {"x-api-key": "secret-key"}, "r") is None
    assert api.check(ROUTE, {"x-api-key": "secret-key"}, "r")[0] == 429


def test_the_handler_sees_the_key_and_its_id_as_api_gateway_passes_them():
    api = keys(UsagePlan(rate=10, burst=10), Clock())
    event = {"requestContext": {"identity": {"apiKey": None, "apiKeyId": None}}}
    api.identify(ROUTE, {"x-api-key": "secret-key"}, event)
    assert event["requestContext"]["identity"] == {"apiKey": "secret-key", "apiKeyId": "k1"}


def test_a_route_without_api_key_required_is_not_checked():
    api = keys(UsagePlan(rate=1, burst=1), Clock())
    webhook = SimpleNamespace(function_id="WebhookIngestFunction", event_name="Webhook")
    assert api.check(webhook, {}, "r") is None


def test_the_plans_come_from_the_template_usage_plan():
    template = Template(ROOT / "template.yaml", {"SyncApiRateLimit": "7", "SyncApiBurstLimit": "9"}, "local")
    api = ApiKeys.from_template(template)
    plans = {route: plan for route, plan in api.plans.items() if route[0] == "SyncApiFunction"}
    assert len(plans) == 10
    assert set(plans.values()) == {UsagePlan(api="SyncApi", rate=7.0, burst=9, quota=100000, period="DAY")}
    assert ("WebhookIngestFunction", "Webhook") not in api.plans
    assert "local-dev-api-key-tests-00000000000003" in api.keys
