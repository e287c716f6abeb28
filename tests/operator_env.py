"""The environment the operator API's function gets from the template, built from the running local stack.

That function lives in another branch; here the variables come from the same template, DEAD_LETTER_QUEUES included:
every queue the template names as a dead-letter target (RedrivePolicy, DeadLetterConfig, OnFailure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

MACHINES = {"ACTIVATION": "CustomerActivationStateMachine", "AMENDMENT": "SubscriptionAmendmentStateMachine",
            "RENEWAL": "RenewalStateMachine", "CANCELLATION": "CancellationStateMachine"}


def dead_letter_targets(value: Any) -> set[str]:
    """ARNs the template names as dead-letter targets: RedrivePolicy, DeadLetterConfig, OnFailure destinations."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "deadLetterTargetArn" and isinstance(inner, str):
                found.add(inner)
            elif key in ("DeadLetterConfig", "OnFailure") and isinstance(inner, dict):
                found |= {v for k, v in inner.items() if k in ("Arn", "Destination") and isinstance(v, str)}
            found |= dead_letter_targets(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= dead_letter_targets(inner)
    return found


def operator_environment(stack: Any) -> dict[str, str]:
    template = stack.template
    targets = set().union(*(dead_letter_targets(template.props(lid)) for lid in template.active()))
    dlqs = [stack.physical(lid) for lid in template.of_type("AWS::SQS::Queue")
            if stack.physical(lid, "Arn") in targets]
    env = {"AWS_ENDPOINT_URL": stack.aws.url, "INBOX_TABLE": stack.physical("InboxTable"),
           "RAW_BUCKET": stack.physical("RawBodyBucket"), "EVENT_BUS_NAME": stack.physical("EventBus"),
           "WORKFLOW_TABLE": stack.physical("WorkflowTable"), "IDENTITY_TABLE": stack.physical("IdentityTable"),
           "KPI_TABLE": stack.physical("KpiTable"), "CRM_ADAPTER_FUNCTION": stack.physical("CrmAdapterFunction"),
           "EVENT_ARCHIVE_NAME": template.props("EventArchive")["ArchiveName"],
           "DEAD_LETTER_QUEUES": ",".join(sorted(dlqs))}
    return env | {f"STATE_MACHINE_{k}": stack.physical(v) for k, v in MACHINES.items()}


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stack():
    """One local stack of the real template.yaml per test module (no vendor sandbox)."""
    from local.stack import HubStack

    with HubStack(ROOT / "template.yaml", sandbox=False) as running:
        yield running


@pytest.fixture
def operator(stack, hub_settings):
    """The operator function's environment, pointed at the local stack (as the CLI's in-process calls are)."""
    hub_settings(**operator_environment(stack))
    return stack
