"""The vendor sandbox on loopback, connector secrets in moto's Secrets Manager, and connectors built from the
same environment variables the Lambda functions get."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests
from moto import mock_aws

import local.sandbox
from erphub.connectors.credentials import ConnectorConfig
from local.sandbox import Sandbox, contracts

SECRET_PREFIX = "erphub/test/connectors/"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    running = local.sandbox.start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def clean_sandbox(sandbox: Sandbox) -> Iterator[None]:
    sandbox.reset()
    yield
    sandbox.reset()


@pytest.fixture
def secrets(sandbox: Sandbox, hub_settings: Callable[..., Any]) -> Iterator[Any]:
    """Every vendor's sandbox credentials stored as its connector secret; the settings point at the sandbox."""
    with mock_aws():
        hub_settings(**local.sandbox.environment(sandbox, SECRET_PREFIX))
        client = boto3.client("secretsmanager")
        for vendor in local.sandbox.VENDORS:
            client.create_secret(Name=f"{SECRET_PREFIX}{vendor}", SecretString=json.dumps(sandbox.credentials(vendor)))
        yield client


@pytest.fixture
def rotate(secrets: Any) -> Callable[..., None]:
    """rotate("stripe", api_key="...") puts a new value into a vendor's connector secret (a key rotation)."""

    def put(vendor: str, **value: Any) -> None:
        secrets.put_secret_value(SecretId=f"{SECRET_PREFIX}{vendor}", SecretString=json.dumps(value))

    return put


@pytest.fixture
def connect(secrets: Any) -> Callable[..., Any]:
    """connect(NetSuiteErp, read_timeout_seconds=0.5) -> a connector configured from the environment."""

    def build(cls: type, **overrides: Any) -> Any:
        config = ConnectorConfig.from_environ(cls.system)
        defaults = {"read_timeout_seconds": 2.0, "connect_timeout_seconds": 1.0, "max_retry_wait_seconds": 2.0}
        return cls(config.model_copy(update={**defaults, **overrides}))

    return build


@pytest.fixture
def kpi_table(secrets: Any, hub_settings: Callable[..., Any]) -> str:
    """A KPI table in moto for the vendor-call counters (the connectors' fixtures already run inside mock_aws)."""
    boto3.client("dynamodb").create_table(
        TableName="kpis", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    hub_settings(KPI_TABLE="kpis")
    return "kpis"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sends_off_contract: the test sends requests off a vendor contract on purpose")


def contract_problems(sandbox: Sandbox, prepared: requests.PreparedRequest) -> list[str]:
    """What is wrong with one request a connector sent, against its vendor's contract file."""
    url = urlsplit(prepared.url or "")
    vendor = url.path.strip("/").split("/", 1)[0]
    if f"{url.scheme}://{url.netloc}" != sandbox.url or vendor not in local.sandbox.VENDORS:
        return []  # the tests steering the sandbox (/_sandbox/...) or a deliberately unreachable host
    body = prepared.body or b""
    _, problems = contracts.load(vendor).check(
        prepared.method or "", contracts.vendor_path(f"/{vendor}", url.path), parse_qsl(url.query),
        body.encode() if isinstance(body, str) else body, dict(prepared.headers))
    return [f"{vendor} {prepared.method} {url.path}: {p}" for p in problems]


@pytest.fixture(autouse=True)
def every_request_meets_its_contract(request: pytest.FixtureRequest, sandbox: Sandbox,
                                     monkeypatch: pytest.MonkeyPatch) -> Iterator[list[requests.PreparedRequest]]:
    """Each request a connector sends in these tests is checked against tests/contracts/<vendor> (DESIGN: the
    connectors are held to the vendors' published contracts), whatever the sandbox makes of it."""
    sent: list[requests.PreparedRequest] = []
    send = requests.Session.send

    def recording_send(session: requests.Session, prepared: requests.PreparedRequest, **kwargs: Any) -> Any:
        sent.append(prepared)
        return send(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    yield sent
    if request.node.get_closest_marker("sends_off_contract") is None:
        problems = [p for prepared in sent for p in contract_problems(sandbox, prepared)]
        assert not problems, "requests outside the vendor contracts:\n" + "\n".join(problems)
