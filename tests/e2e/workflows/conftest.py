"""One local stack of the real template.yaml (with the vendor sandbox) per workflow test module.

Short waits for the tests: approval timeout (and a lower approval threshold), published into the stack's business
configuration parameter the way an operator changes it without a deploy; connector Retry-After cap. The state
machines' own Retry intervals are those of the committed .asl.json files (1 s, backoff 2, 3 attempts, full jitter).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.stack import HubStack

ROOT = Path(__file__).resolve().parents[3]
APPROVAL = {"threshold": "200000", "timeout_seconds": 4, "heartbeat_seconds": 4}
MACHINES = {"activation": "CustomerActivationStateMachine", "amendment": "SubscriptionAmendmentStateMachine",
            "renewal": "RenewalStateMachine", "cancellation": "CancellationStateMachine"}


class Hub:
    """What a test drives and reads: the gateway, executions, the workflow table, the sandbox."""

    def __init__(self, stack: HubStack) -> None:
        self.stack, self.sandbox = stack, stack.sandbox
        self.gateway = stack.endpoints["gateway"]
        self.sfn = stack.client("stepfunctions")

    def execution(self, workflow: str, business_key: str, version: int | str = 1, timeout: float = 30) -> dict:
        """The execution named business key + version, once it has stopped running (or waits on a token)."""
        arn = self.stack.physical(MACHINES[workflow])
        name = f"{business_key}-v{version}"
        execution_arn = arn.replace(":stateMachine:", ":execution:") + f":{name}"

        def finished() -> dict | None:
            try:
                found = self.sfn.describe_execution(executionArn=execution_arn)
            except self.sfn.exceptions.ExecutionDoesNotExist:
                return None
            return found if found["status"] != "RUNNING" else None

        return self.stack.wait_until(finished, timeout=timeout, interval=0.1)

    def latest(self, workflow: str, name_prefix: str, timeout: float = 30) -> dict:
        """The execution whose name starts with the prefix (e.g. a Gainsight company id), once it stopped."""
        arn = self.stack.physical(MACHINES[workflow])

        def finished() -> dict | None:
            found = [e for e in self.sfn.list_executions(stateMachineArn=arn)["executions"]
                     if e["name"].startswith(name_prefix)]
            if found and found[0]["status"] != "RUNNING":
                return self.sfn.describe_execution(executionArn=found[0]["executionArn"])
            return None

        return self.stack.wait_until(finished, timeout=timeout, interval=0.1)

    def states_entered(self, execution_arn: str) -> list[str]:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def exception(self, correlation_id: str, kind: str, timeout: float = 20) -> dict:
        """The open exception of that kind for the correlation id, once the workflow has raised it."""

        def found() -> dict | None:
            return next((e for e in self.store().exceptions(correlation_id) if e["kind"] == kind), None)

        return self.stack.wait_until(found, timeout=timeout, interval=0.1)

    def store(self) -> Any:
        from erphub.store.workflow_state import WorkflowStore

        return WorkflowStore(self.stack.physical("WorkflowTable"), self.stack.client("dynamodb"))

    def identity(self) -> Any:
        from erphub.store.identity_table import IdentityStore

        return IdentityStore(self.stack.physical("IdentityTable"), self.stack.client("dynamodb"))

    def records(self, vendor: str, kind: str) -> list[dict[str, Any]]:
        return self.sandbox.records(vendor, kind)

    def operator(self) -> Any:
        """erphub.workflows.operator, pointed at the local stack."""
        from erphub.workflows import operator

        return operator


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


def publish_business_config(stack: HubStack, **changes: Any) -> None:
    """Change the business configuration of a running stack as `tools.business_config publish` does (no deploy);
    the functions read it within their cache age (none has read it yet when a module starts)."""
    committed = json.loads((ROOT / "config" / "business.json").read_text())
    stack.client("ssm").put_parameter(Name=stack.physical("BusinessConfigParameter"), Type="String",
                                      Value=json.dumps({**committed, **changes}), Overwrite=True)


@pytest.fixture
def hub(stack, hub_settings):
    # the operator API (a library call) reaches the local stack's AWS as the CLI would
    hub_settings(AWS_ENDPOINT_URL=stack.aws.url, WORKFLOW_TABLE=stack.physical("WorkflowTable"),
                 IDENTITY_TABLE=stack.physical("IdentityTable"))
    stack.sandbox.faults.clear()
    yield Hub(stack)
    stack.sandbox.faults.clear()
    stack.sandbox.limit_concurrency("netsuite", None)
