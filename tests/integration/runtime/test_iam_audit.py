"""The IAM audit on the TEST-ONLY template: ApiFunction declares SQSSendMessagePolicy on WorkQueue; the
other functions declare nothing, yet QueueWorkerFunction reports to OutputQueue."""

import json
import urllib.request
import uuid

import pytest

from local.aws_calls import AwsCall, calls_of
from tools import iam_audit
from tools.iam_audit import Finding, Statement

pytestmark = pytest.mark.integration


def test_a_call_the_policy_allows_is_recorded_and_not_reported(stack):
    # Given ApiFunction, whose SQSSendMessagePolicy names WorkQueue
    request = urllib.request.Request(stack.endpoints["gateway"] + "/enqueue",  # noqa: S310 - loopback
                                     data=json.dumps({"id": uuid.uuid4().hex}).encode(), method="POST")
    # When a request makes it send to WorkQueue
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 202
    # Then the call is recorded for ApiFunction, naming the queue
    assert AwsCall("sqs", "SendMessage", stack.physical("WorkQueue")) in stack.aws_calls["ApiFunction"]
    # And the audit finds nothing ApiFunction may not do
    assert [f for f in iam_audit.audit(stack) if f.function == "ApiFunction"] == []


def test_a_call_no_policy_allows_is_reported(stack):
    # Given QueueWorkerFunction, whose template declares no policy
    record = {"messageId": "m-1", "body": json.dumps({"id": uuid.uuid4().hex}),
              "attributes": {"ApproximateReceiveCount": "1"}}
    # When it handles a message, reporting to OutputQueue
    stack.invoke("QueueWorkerFunction", {"Records": [record]})
    # Then the audit reports that send, on OutputQueue's ARN
    assert Finding("QueueWorkerFunction", "sqs:SendMessage", stack.physical("OutputQueue", "Arn"),
                   "no statement of the role allows sqs:SendMessage") in iam_audit.audit(stack)


def test_a_policy_allows_its_own_resource_only(stack):
    # Given ApiFunction's policy on WorkQueue
    # When the audit checks a send of ApiFunction to OutputQueue and a batch send to WorkQueue
    calls = {"ApiFunction": {AwsCall("sqs", "SendMessage", stack.physical("OutputQueue")),
                             AwsCall("sqs", "SendMessageBatch", stack.physical("WorkQueue"))}}
    findings = iam_audit.audit(stack, calls)
    # Then only the send to OutputQueue is reported, saying where the action is allowed
    assert [(f.action, f.resource) for f in findings] == [("sqs:SendMessage", stack.physical("OutputQueue", "Arn"))]
    assert findings[0].reason == f"allowed only on {stack.physical('WorkQueue', 'Arn')}"


def test_sam_policy_templates_and_event_sources_become_role_statements(stack):
    # Given the template's SAM policy template, SQS event source and stream on-failure destination
    # When the audit computes each function's role as the SAM transform does
    roles = iam_audit.policies(stack)
    # Then SQSSendMessagePolicy is SendMessage* on WorkQueue's ARN
    assert Statement("Allow", ("sqs:SendMessage*",), (stack.physical("WorkQueue", "Arn"),),
                     "ApiFunctionRolePolicy0") in roles["ApiFunction"]
    # And the SQS event source lets the function's role read the queue (the managed policy SAM attaches)
    worker = {action for s in roles["QueueWorkerFunction"] for action in s.actions}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= worker
    # And the stream's on-failure destination may be sent to, that queue only
    assert any(s.actions == ("sqs:SendMessage",) and s.resources == (stack.physical("StreamFailureQueue", "Arn"),)
               for s in roles["StreamWorkerFunction"])
    # And a function without Policies gets no statement on the output queue
    assert iam_audit.verdict(roles["TickerFunction"], "sqs:SendMessage", stack.physical("OutputQueue", "Arn"))


def test_transact_write_items_needs_the_actions_of_its_parts(stack):
    # Given a transaction that puts an item and checks a condition on ItemsTable
    table = stack.physical("ItemsTable")
    calls = calls_of("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": table, "Item": {}}}, {"ConditionCheck": {"TableName": table, "Key": {}}}]})
    # When ApiFunction (no DynamoDB permission) made it
    findings = iam_audit.audit(stack, {"ApiFunction": set(calls)})
    # Then IAM's actions of the parts are reported, on the table
    table_arn = stack.physical("ItemsTable", "Arn")
    assert {(f.action, f.resource) for f in findings} == {("dynamodb:ConditionCheckItem", table_arn),
                                                         ("dynamodb:PutItem", table_arn)}


TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


@pytest.mark.parametrize(("action_patterns", "resources", "action", "arn", "allowed"), [
    (("dynamodb:*",), (TABLE,), "dynamodb:Query", TABLE, True),
    (("DynamoDB:getitem",), (TABLE,), "dynamodb:GetItem", TABLE, True),  # actions are case-insensitive
    (("sqs:*Message",), ("*",), "sqs:DeleteMessage", "arn:aws:sqs:us-east-1:123456789012:q", True),
    (("sqs:*Message",), ("*",), "sqs:GetQueueAttributes", "arn:aws:sqs:us-east-1:123456789012:q", False),
    (("dynamodb:Query",), (f"{TABLE}/index/*",), "dynamodb:Query", f"{TABLE}/index/by-date", True),
    (("dynamodb:Query",), (f"{TABLE}/index/*",), "dynamodb:Query", TABLE, False),
    (("secretsmanager:GetSecretValue",), ("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????",),
     "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123", True),
    (("states:SendTaskSuccess",), ("arn:aws:states:us-east-1:123456789012:stateMachine:x",),
     "states:SendTaskSuccess", None, True),  # a call naming no resource is checked on its action only
])
def test_wildcards_in_actions_and_resources(action_patterns, resources, action, arn, allowed):
    statements = [Statement("Allow", action_patterns, resources, "policy")]
    assert (iam_audit.verdict(statements, action, arn) is None) is allowed


def test_an_explicit_deny_wins():
    statements = [Statement("Allow", ("dynamodb:*",), ("*",), "crud"),
                  Statement("Deny", ("dynamodb:DeleteItem",), (TABLE,), "keep-orders")]
    assert iam_audit.verdict(statements, "dynamodb:DeleteItem", TABLE) == "explicitly denied by keep-orders"
    assert iam_audit.verdict(statements, "dynamodb:PutItem", TABLE) is None
