"""Step Functions run by moto's interpreter, whose Lambda tasks call the in-process handlers."""

import json
import uuid

import pytest

pytestmark = pytest.mark.integration


def test_retry_on_a_handler_error_name_then_catch_into_a_named_state_then_a_task_token(stack, collect):
    sfn = stack.client("stepfunctions")
    order = uuid.uuid4().hex[:8]
    # Given an order whose first task fails twice with Transient and whose second raises Rejected
    arn = stack.start_execution("OrderStateMachine", {"order": order})
    # When the execution reaches the task token wait
    token_message = collect("TokenQueue", lambda m: m.get("order") == order, 1, timeout=20)[0]
    sfn.send_task_success(taskToken=token_message["token"], output=json.dumps({"approved": True}))
    result = stack.wait_until(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                              timeout=10)
    # Then Retry matched Transient (third attempt succeeded), Catch matched Rejected into ReleaseReservation
    assert result["status"] == "SUCCEEDED"
    output = json.loads(result["output"])
    assert output["reserved"] == {"attempts": 3}
    assert output["error"]["Error"] == "Rejected"
    assert "card declined" in output["error"]["Cause"]
    assert output["compensation"] == "released"
    assert output["approval"] == {"approved": True}
    states = [e["stateEnteredEventDetails"]["name"] for e in sfn.get_execution_history(executionArn=arn)["events"]
              if "stateEnteredEventDetails" in e]
    assert states == ["Reserve", "Charge", "ReleaseReservation", "AwaitApproval", "Done"]


def test_send_task_failure_fails_the_execution(stack, collect):
    sfn = stack.client("stepfunctions")
    order = uuid.uuid4().hex[:8]
    arn = stack.start_execution("OrderStateMachine", {"order": order})
    token_message = collect("TokenQueue", lambda m: m.get("order") == order, 1, timeout=20)[0]
    sfn.send_task_failure(taskToken=token_message["token"], error="Declined", cause="operator said no")
    result = stack.wait_until(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                              timeout=10)
    assert result["status"] == "FAILED"
    assert result.get("error") == "Declined"
