"""The switch for running webhook e2e tests against a deployed stack, as the AWS serverless test samples do:
`AWS_SAM_STACK_NAME=erphub-dev pytest -m deployed tests/e2e/deployed` (AWS credentials and region of that account).
Without AWS_SAM_STACK_NAME every test marked `deployed` is skipped."""

from __future__ import annotations

import os

import pytest

from tools import smoke


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("AWS_SAM_STACK_NAME"):
        return
    skip = pytest.mark.skip(reason="set AWS_SAM_STACK_NAME to run the e2e tests against a deployed stack")
    for item in items:
        if item.get_closest_marker("deployed"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def aws() -> smoke.Clients:
    return smoke.aws_clients(os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


@pytest.fixture(scope="session")
def deployed(aws: smoke.Clients) -> smoke.DeployedStack:
    """The stack's outputs and parameters, resolved with DescribeStacks."""
    return smoke.describe(aws, os.environ["AWS_SAM_STACK_NAME"])
