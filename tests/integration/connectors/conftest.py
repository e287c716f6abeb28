"""The vendor sandbox on loopback, connector secrets in moto's Secrets Manager, and connectors built from the
same environment variables the Lambda functions get."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import local.sandbox
from erphub import aws
from erphub.connectors.credentials import ConnectorConfig, reset_credentials_cache
from local.sandbox import Sandbox

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
def secrets(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Every vendor's sandbox credentials stored as its connector secret; the environment points at the sandbox."""
    for name, value in local.sandbox.environment(sandbox, SECRET_PREFIX).items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        aws.reset_clients()
        reset_credentials_cache()
        client = boto3.client("secretsmanager")
        for vendor in local.sandbox.VENDORS:
            client.create_secret(Name=f"{SECRET_PREFIX}{vendor}", SecretString=json.dumps(sandbox.credentials(vendor)))
        yield client
    aws.reset_clients()
    reset_credentials_cache()


@pytest.fixture
def connect(secrets: Any) -> Callable[..., Any]:
    """connect(NetSuiteErp, read_timeout_seconds=0.5) -> a connector configured from the environment."""

    def build(cls: type, **overrides: Any) -> Any:
        config = ConnectorConfig.from_environ(cls.system)
        defaults = {"read_timeout_seconds": 2.0, "connect_timeout_seconds": 1.0, "max_retry_wait_seconds": 2.0}
        return cls(config.model_copy(update={**defaults, **overrides}))

    return build
