"""The CLI's generic parts against the test stack: demo scenarios, status, the provisioning report."""

import json
from pathlib import Path

import pytest

from local import status
from local.cli import main
from local.scenarios import Runner

APP = Path(__file__).resolve().parent / "app"

pytestmark = pytest.mark.integration


def test_an_example_scenario_runs_with_a_timeline(stack):
    lines = []
    runner = Runner(stack.endpoints["gateway"], stack.client, stack.template.physical, root=APP, out=lines.append)
    assert runner.run(json.loads((APP / "scenarios" / "example.json").read_text()))
    steps = [line for line in lines if line.startswith("[")]
    assert len(steps) == 7 and all(" ok " in line for line in steps)


def test_a_failing_expectation_stops_the_scenario_and_says_so(stack):
    lines = []
    runner = Runner(stack.endpoints["gateway"], stack.client, stack.template.physical, out=lines.append)
    scenario = {"name": "x", "steps": [{"expect": {"queue": "WorkDLQ", "count": 99}}, {"note": "never"}]}
    assert not runner.run(scenario)
    assert "FAIL expect: queue WorkDLQ holds" in lines[-1]


def test_status_lists_tables_archives_queues_and_executions(stack, capsys):
    assert main(["status", "--endpoint", stack.aws.url]) == 0
    out = capsys.readouterr().out
    assert stack.physical("ItemsTable", "Ref") in out
    assert stack.physical("BusArchive") in out
    assert f"{stack.physical('WorkQueue', 'QueueName')}: " in out and "DLQ " in out
    assert stack.physical("OrderStateMachine", "Name") in out


def test_failing_step_of_an_execution_is_found(stack, collect):
    sfn = stack.client("stepfunctions")
    arn = stack.start_execution("OrderStateMachine", {"order": "status-check"})
    token = collect("TokenQueue", lambda m: m.get("order") == "status-check", 1, timeout=20)[0]["token"]
    sfn.send_task_failure(taskToken=token, error="Declined", cause="no")
    stack.wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] == "FAILED")
    assert status.failing_step(sfn, arn) == ("AwaitApproval", "Declined")


def test_the_report_names_every_skipped_resource_with_a_reason(stack):
    skipped = {line.logical_id: line.detail for line in stack.report if line.status == "skipped"}
    # only IAM: the template's own role and the roles and permissions the SAM transform generates
    iam = {lid for lid, r in stack.template.active().items()
           if r["Type"].startswith("AWS::IAM::") or r["Type"] == "AWS::Lambda::Permission"}
    assert "ApiAccessRole" in iam and "QueueWorkerFunctionRole" in iam
    assert skipped == dict.fromkeys(iam, "IAM is not enforced locally")
    logical_ids = {line.logical_id for line in stack.report}
    assert "ProdOnlyQueue" not in logical_ids  # its Condition is false
