"""One local stack of the real template.yaml (with the vendor sandbox) per workflow test module.

Short waits for the tests: approval timeout (and a lower approval threshold), published into the stack's business
configuration parameter the way an operator changes it without a deploy; connector Retry-After cap. The state
machines' own Retry intervals are those of the committed .asl.json files (1 s, backoff 2, 3 attempts, full jitter).
"""

from __future__ import annotations

from typing import Any

import pytest
from stack_driver import APPROVAL, ROOT, Hub, publish_business_config

from local.stack import HubStack


@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    """Template parameters a module sets for its stack (test_matrix.py: the vendors of one matrix row)."""
    return {}


@pytest.fixture(scope="module")
def business_config() -> dict[str, Any]:
    """The business configuration a module's stack runs with, over the committed one (short approval waits)."""
    return {"approval": APPROVAL}


@pytest.fixture(scope="module")  # one stack per module: see tests/integration/runtime/conftest.py
def stack(stack_parameters, business_config):
    with HubStack(ROOT / "template.yaml", parameter_overrides=stack_parameters) as running:
        publish_business_config(running, **business_config)
        yield running


@pytest.fixture
def hub(stack, hub_settings):
    # the operator API (a library call) reaches the local stack's AWS as the CLI would
    hub_settings(AWS_ENDPOINT_URL=stack.aws.url, WORKFLOW_TABLE=stack.physical("WorkflowTable"),
                 IDENTITY_TABLE=stack.physical("IdentityTable"),
                 CRM_ADAPTER_FUNCTION=stack.physical("CrmAdapterFunction"))  # a data fix is written to the CRM
    stack.sandbox.faults.clear()
    yield Hub(stack)
    stack.sandbox.faults.clear()
    stack.sandbox.limit_concurrency("netsuite", None)
