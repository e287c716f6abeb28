"""What the workflow e2e tests drive and read on a local stack (the `hub` fixture's class) and how they change its
business configuration; kept out of conftest.py so test modules can import it by a name no other conftest has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def publish_business_config(stack: HubStack, **changes: Any) -> None:
    """Change the business configuration of a running stack as `tools.business_config publish` does (no deploy);
    the functions read it within their cache age (none has read it yet when a module starts)."""
    committed = json.loads((ROOT / "config" / "business.json").read_text())
    stack.client("ssm").put_parameter(Name=stack.physical("BusinessConfigParameter"), Type="String",
                                      Value=json.dumps({**committed, **changes}), Overwrite=True)
