"""local/task_turns.py wraps moto's Lambda Task and requests' adapter: fail loudly the day either changes, and
check on a running stack that a Lambda Task really waits for its turn."""

import json
import threading
import time
import uuid

import pytest

from local import task_turns

pytestmark = pytest.mark.integration


def test_the_pinned_versions_and_the_wrapped_methods_are_the_ones_written_for():
    task_turns.check_compatible()  # refuses another moto or requests (local.pinned) or a changed signature


def test_a_lambda_task_of_a_running_execution_waits_for_its_turn(stack):
    assert task_turns.installed()
    task_turns.install()  # idempotent
    sfn = stack.client("stepfunctions")
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": stack.physical("LimitedFunction", "Arn"), "Parameters": {"hold": 0}, "End": True}}}
    machine = sfn.create_state_machine(name=f"turns-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/local")["stateMachineArn"]
    holding, release = threading.Event(), threading.Event()

    def older_task() -> None:  # an execution that started before any other holds the only turn
        with task_turns.TASKS.turn("0000-00-00"):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=older_task, daemon=True)
    holder.start()
    holding.wait(5)
    run = sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex, input="{}")["executionArn"]
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            assert sfn.describe_execution(executionArn=run)["status"] == "RUNNING"
            release.wait(0.1)
    finally:
        release.set()
        holder.join(5)
    stack.wait_until(lambda: sfn.describe_execution(executionArn=run)["status"] != "RUNNING", timeout=10)
    assert sfn.describe_execution(executionArn=run)["status"] == "SUCCEEDED"
