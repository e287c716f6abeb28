"""The operator API's function is wired for recovery: DEAD_LETTER_QUEUES names every DLQ of the template, and its
role may act on each DLQ and send back to each source queue (docs/operations.md, "IAM")."""

from pathlib import Path

import pytest
from tests.unit.template.test_house_rules import _dead_letter_queues, _refs

from local.cfn_yaml import load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
RESOURCES = load_template(ROOT / "template.yaml")["Resources"]
OPS = RESOURCES["OpsApiFunction"]["Properties"]
STATEMENTS = [s for p in OPS["Policies"] if "Statement" in p for s in p["Statement"]]


def _actions(statement: dict) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


def _granted(action: str) -> set[str]:
    """Logical ids of the resources a statement of the ops role grants `action` on."""
    return set().union(*(_refs(s["Resource"]) for s in STATEMENTS if action in _actions(s)))


def test_dead_letter_queues_names_every_dlq_of_the_template():
    # Given every queue the template names as a dead-letter target (RedrivePolicy, DeadLetterConfig, OnFailure)
    dlqs = _dead_letter_queues()
    assert len(dlqs) >= 13
    # When the operator function's DEAD_LETTER_QUEUES is read
    joined = OPS["Environment"]["Variables"]["DEAD_LETTER_QUEUES"]["Fn::Join"]
    # Then it is a comma-join of a Ref to each, and of nothing else
    assert joined[0] == ","
    assert {ref["Ref"] for ref in joined[1]} == dlqs


def test_the_role_acts_on_every_dlq_and_sends_back_to_every_source_queue():
    dlqs = _dead_letter_queues()
    sources = {lid for lid, r in RESOURCES.items()
               if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]}
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:PurgeQueue",
                   "sqs:StartMessageMoveTask", "sqs:ListDeadLetterSourceQueues", "sqs:GetQueueAttributes"):
        assert _granted(action) >= dlqs, action
    assert _granted("sqs:SendMessage") == sources
    # purging and moving are for DLQs only: never on a queue a consumer reads
    assert not (_granted("sqs:PurgeQueue") | _granted("sqs:DeleteMessage")) & sources


def test_the_recovery_environment_is_given():
    variables = OPS["Environment"]["Variables"]
    for name in ("INBOX_TABLE", "RAW_BUCKET", "EVENT_BUS_NAME", "EVENT_ARCHIVE_NAME", "WORKFLOW_TABLE",
                 "IDENTITY_TABLE", "STATE_MACHINE_ACTIVATION"):
        assert name in variables, name
    assert variables["EVENT_ARCHIVE_NAME"] == {"Ref": "EventArchive"}
