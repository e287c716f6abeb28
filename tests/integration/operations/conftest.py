"""One local stack of the real template.yaml per test module, and the environment an operator function gets.

The operator API's function (another branch) gets these variables from the template; here they are built from the
same template, DEAD_LETTER_QUEUES included: every queue the template names as a dead-letter target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[3]
MACHINES = {"ACTIVATION": "CustomerActivationStateMachine", "AMENDMENT": "SubscriptionAmendmentStateMachine",
            "RENEWAL": "RenewalStateMachine", "CANCELLATION": "CancellationStateMachine"}


@pytest.fixture(scope="module")
def stack():
    with LocalStack(ROOT / "template.yaml", sandbox=False) as running:
        yield running


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


def operator_environment(stack: LocalStack) -> dict[str, str]:
    template = stack.template
    targets = set().union(*(dead_letter_targets(template.props(lid)) for lid in template.active()))
    dlqs = [stack.physical(lid) for lid in template.of_type("AWS::SQS::Queue")
            if stack.physical(lid, "Arn") in targets]
    env = {"AWS_ENDPOINT_URL": stack.aws.url, "INBOX_TABLE": stack.physical("InboxTable"),
           "RAW_BUCKET": stack.physical("RawBodyBucket"), "EVENT_BUS_NAME": stack.physical("EventBus"),
           "WORKFLOW_TABLE": stack.physical("WorkflowTable"), "IDENTITY_TABLE": stack.physical("IdentityTable"),
           "EVENT_ARCHIVE_NAME": template.props("EventArchive")["ArchiveName"],
           "DEAD_LETTER_QUEUES": ",".join(sorted(dlqs))}
    return env | {f"STATE_MACHINE_{k}": stack.physical(v) for k, v in MACHINES.items()}


@pytest.fixture
def operator(stack, monkeypatch):
    """The operator function's environment, pointed at the local stack (as the CLI's in-process calls are)."""
    from erphub import aws
    from erphub.settings import reset_settings

    for name, value in operator_environment(stack).items():
        monkeypatch.setenv(name, value)
    aws.reset_clients()
    reset_settings()
    yield stack
    aws.reset_clients()
    reset_settings()
