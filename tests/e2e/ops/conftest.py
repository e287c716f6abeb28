"""One local stack of the real template.yaml for the operator API's authentication tests (no vendor sandbox:
only the gateway, the embedded Cognito user pool and the ops function are exercised)."""

from __future__ import annotations

from pathlib import Path

import pytest

from erphub_cli.client import sign_in
from local.cognito_authorizer import dev_users
from local.stack import HubStack
from local.template import REGION

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", sandbox=False) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack) -> str:
    return stack.endpoints["gateway"] + "/ops/v1"


@pytest.fixture(scope="module")
def tokens(stack) -> dict[str, dict]:
    """Each dev user's Cognito AuthenticationResult."""
    client = stack.physical("OpsUserPoolClient")
    return {role: sign_in(client, user["email"], user["password"], region=REGION, endpoint_url=stack.aws.url)
            for role, user in dev_users().items()}
