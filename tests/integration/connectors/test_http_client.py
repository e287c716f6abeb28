"""The shared client: error bodies become typed errors; 429/5xx/timeouts are retried a bounded number of times,
honouring Retry-After up to a cap; unsafe requests are never repeated."""

from __future__ import annotations

import importlib
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from erphub.connectors.http import HttpClient, parse_retry_after
from erphub.connectors.interfaces import ErpCustomer
from erphub.connectors.netsuite import NetSuiteErp
from erphub.errors import RateLimited, Transient

pytestmark = pytest.mark.integration


def test_retry_after_is_read_as_seconds_or_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= parse_retry_after(soon) <= 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_429_is_retried_after_the_servers_retry_after(sandbox, connect):
    erp = connect(NetSuiteErp)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=1, retry_after=1)
    started = time.monotonic()
    ref = erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    waited = time.monotonic() - started
    assert ref.external_id == "C-1"
    assert waited >= 1.0, "the client must wait as long as Retry-After asks"
    assert len(sandbox.records("netsuite", "customer")) == 1


def test_retry_after_longer_than_the_cap_goes_back_to_the_state_machine(sandbox, connect):
    erp = connect(NetSuiteErp, max_retry_wait_seconds=1.0)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=1, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    assert raised.value.retry_after == 30
    assert time.monotonic() - started < 1.0
    assert sandbox.records("netsuite", "customer") == []


def test_persistent_429_raises_rate_limited_after_the_bounded_attempts(sandbox, connect):
    erp = connect(NetSuiteErp, max_attempts=3)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=5, retry_after=0)
    with pytest.raises(RateLimited):
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    assert erp.http.attempts == 3


def test_5xx_is_retried_then_succeeds(sandbox, connect):
    erp = connect(NetSuiteErp)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="500", times=2)
    erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    assert erp.http.attempts == 2 + 1
    assert len(sandbox.records("netsuite", "customer")) == 1


def test_persistent_5xx_is_transient(sandbox, connect):
    erp = connect(NetSuiteErp, max_attempts=2)
    sandbox.faults.inject("netsuite", None, kind="503", times=5)
    with pytest.raises(Transient) as raised:
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    assert not isinstance(raised.value, RateLimited)
    assert "UNEXPECTED_ERROR" in raised.value.reason, "the vendor's error body is kept in the message"


def test_a_hanging_server_is_a_transient_timeout(sandbox, connect):
    erp = connect(NetSuiteErp, read_timeout_seconds=0.3, max_attempts=1)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="timeout", seconds=1.0)
    with pytest.raises(Transient, match="timed out"):
        erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))


def test_latency_below_the_timeout_only_slows_the_call(sandbox, connect):
    erp = connect(NetSuiteErp, read_timeout_seconds=2.0)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="latency", seconds=0.3)
    started = time.monotonic()
    erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    assert time.monotonic() - started >= 0.3


def test_an_unreachable_vendor_is_transient():
    client = HttpClient("nowhere", "http://127.0.0.1:9", connect_timeout=0.2, read_timeout=0.2, max_attempts=1)
    with pytest.raises(Transient, match="unreachable"):
        client.request("GET", "/anything")


def test_a_post_without_idempotency_key_is_never_repeated(sandbox):
    client = HttpClient("hubspot", sandbox.base_url("hubspot"), max_attempts=3, backoff=0,
                        auth=lambda *_: {"Authorization": f"Bearer {sandbox.credentials('hubspot')['access_token']}"})
    sandbox.faults.inject("hubspot", "companies.create", kind="500", times=3)
    with pytest.raises(Transient):
        client.request("POST", "/crm/v3/objects/companies", json={"properties": {"name": "Once"}, "associations": []})
    assert client.attempts == 1


@pytest.mark.parametrize(("vendor", "call"), [
    ("salesforce", lambda c: c.get_account("001000000000001AAA")),
    ("hubspot", lambda c: c.get_account("1")),
    ("stripe", lambda c: c.list_invoices("cus_1")),
    ("chargebee", lambda c: c.list_invoices("cb_1")),
    ("gainsight", lambda c: c.find("Company", "Erphub_Key__gc", "k")),
    ("netsuite", lambda c: c.get_record("customer", "C-1")),
    ("dynamics", lambda c: c.get_record("accounts", "C-1", "accountnumber")),
])
def test_every_vendors_retry_after_reaches_the_state_machine(sandbox, connect, vendor, call):
    from erphub.workflows.systems import VENDORS

    kind = next(k for k, names in VENDORS.items() if vendor in names)
    module, cls = VENDORS[kind][vendor].split(":")
    connector_class = getattr(importlib.import_module(f"erphub.connectors.{module}"), cls)
    sandbox.faults.inject(vendor, None, kind="429", retry_after=30)
    with pytest.raises(RateLimited) as raised:
        call(connect(connector_class, max_attempts=1))
    assert raised.value.retry_after == 30


def test_the_environment_is_read_once_when_the_client_is_made(monkeypatch):
    """A proxy for the vendor's host (unless NO_PROXY names it) and a CA bundle are taken from the environment as
    requests takes them, once; requests no longer walks the environment or looks for .netrc on each request."""
    import requests

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    monkeypatch.setenv("NO_PROXY", "login.example.com")
    proxied = HttpClient("netsuite", "https://api.example.com").session
    assert proxied.proxies.get("https") == "http://proxy.internal:3128"
    assert proxied.verify == "/etc/ssl/corporate.pem"
    assert proxied.trust_env is False, "requests would read the environment again on every request"
    assert "https" not in HttpClient("netsuite", "https://login.example.com").session.proxies

    def per_request(*_: object, **__: object) -> None:
        raise AssertionError("the environment was read for a request")

    monkeypatch.setattr(requests.utils, "get_environ_proxies", per_request)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", per_request)
    prepared = proxied.prepare_request(requests.Request("GET", "https://api.example.com/x"))
    settings = proxied.merge_environment_settings(prepared.url, {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.internal:3128"
