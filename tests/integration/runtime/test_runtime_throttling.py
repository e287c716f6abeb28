"""A Step Functions Task that calls a function at its reserved concurrency fails with the error AWS names
`Lambda.TooManyRequestsException`, in both Lambda integration forms, so Retry/Catch can match it."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration


def machine(stack, resource: str, parameters: dict) -> str:
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True,
                 "Catch": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "ResultPath": "$.error",
                            "Next": "Throttled"}]},
        "Throttled": {"Type": "Pass", "End": True}}}
    return stack.client("stepfunctions").create_state_machine(
        name=f"throttle-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/local")["stateMachineArn"]


@pytest.mark.parametrize("form", ["plain ARN", "lambda:invoke"])
def test_a_task_over_the_reserved_concurrency_fails_with_the_aws_error_name(stack, form):
    # Given a function with ReservedConcurrentExecutions 2, called by a Task in one of the two forms
    sfn, arn = stack.client("stepfunctions"), stack.physical("LimitedFunction", "Arn")
    hold = {"hold": 1.0}
    if form == "plain ARN":
        machine_arn = machine(stack, arn, hold)
    else:
        machine_arn = machine(stack, "arn:aws:states:::lambda:invoke", {"FunctionName": arn, "Payload": hold})
    # When four executions call it at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: sfn.start_execution(stateMachineArn=machine_arn, name=uuid.uuid4().hex,
                                                           input="{}")["executionArn"], range(4)))

    def finished():
        found = [sfn.describe_execution(executionArn=r) for r in runs]
        return found if all(d["status"] != "RUNNING" for d in found) else None

    started = time.monotonic()
    results = stack.wait_until(finished, timeout=30, interval=0.1)
    # Then every execution succeeded, and those over the budget caught Lambda.TooManyRequestsException
    assert [r["status"] for r in results] == ["SUCCEEDED"] * 4
    errors = [json.loads(r["output"]).get("error", {}).get("Error") for r in results]
    assert errors.count("Lambda.TooManyRequestsException") >= 1, errors
    assert set(errors) <= {None, "Lambda.TooManyRequestsException"}
    assert time.monotonic() - started < 20
