"""The workflow sources (statemachines/<workflow>.yaml + policy.yaml) make the committed .asl.json files, and the
house rules hold for what they make: no unbounded wait, an execution timeout, one policy on every Task."""

import json
from pathlib import Path

import pytest

from tools import asl

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted((ROOT / "statemachines").glob("*.asl.json"))
POLICY = asl.load_yaml(asl.POLICY)


def tasks(states):
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from tasks(branch["States"])


def test_committed_asl_is_what_the_sources_make():
    # Given the workflow sources and the policy
    # When the generator renders them
    stale = asl.drift()
    # Then every committed .asl.json is identical (run `make asl` after changing a source or the policy)
    assert stale == [], f"out of date, run `make asl`: {[p.name for p in stale]}"
    assert sorted(asl.generate()) == FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_task_token_wait_is_bounded(path):
    waits = [(n, s) for n, s in tasks(json.loads(path.read_text())["States"])
             if s["Resource"].endswith(".waitForTaskToken")]
    assert waits, path.name
    for name, state in waits:
        timeout = state.get("TimeoutSeconds") or state.get("TimeoutSecondsPath")
        assert timeout, f"{path.name}: {name} can wait forever"
        catch_all = state["Catch"][-1]
        assert catch_all["ErrorEquals"] == ["States.ALL"], f"{name}: a timeout must land in a named state"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_state_machine_has_an_execution_timeout(path):
    machine = json.loads(path.read_text())
    assert 0 < machine["TimeoutSeconds"] <= 365 * 24 * 3600  # a Standard execution lives at most a year
    longest_wait = max(s.get("TimeoutSeconds", 0) for _, s in tasks(machine["States"]))
    assert machine["TimeoutSeconds"] > longest_wait, path.name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_task_carries_the_one_policy_and_one_form_per_kind(path):
    for name, state in tasks(json.loads(path.read_text())["States"]):
        assert state["Retry"] == POLICY["retry"], name
        if state["Resource"] == asl.QUEUE_RESOURCE:  # an ERP call: a message on the ERP work queue
            assert state["Parameters"]["QueueUrl"] == POLICY["work_queues"]["erp"]["QueueUrl"], name
            assert state["Parameters"]["MessageBody"]["action"].startswith("erp."), name
            assert state["TimeoutSeconds"] == POLICY["work_queues"]["erp"]["TimeoutSeconds"], name
        elif state["Resource"].startswith("arn:aws:states:::"):
            assert state["Resource"] == asl.WAIT_RESOURCE, name  # a wait: the hub opens an exception
            assert state["Parameters"]["Payload"]["action"] == asl.WAIT_ACTION, name
        else:
            assert state["Resource"] in set(asl.ADAPTERS.values()), name  # a call: plain ARN


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_busy_or_silent_erp_waits_for_recovery_instead_of_compensating(path):
    erp_calls = [(n, s) for n, s in tasks(json.loads(path.read_text())["States"])
                 if s["Resource"] == asl.QUEUE_RESOURCE and len(s["Catch"]) > 1]
    assert erp_calls, path.name
    for name, state in erp_calls:
        outage = state["Catch"][0]
        # a rate limit after its retries, or no answer from the work queue within the Task's timeout
        assert {"RateLimited", "Transient", "States.Timeout"} <= set(outage["ErrorEquals"]), name
        assert outage["Next"].startswith("AwaitErpRecovery"), name
    # no ERP call invokes the adapter any more: none can be throttled by its reserved concurrency
    assert not [n for n, s in tasks(json.loads(path.read_text())["States"]) if s["Resource"] == "${ErpAdapterArn}"]
    throttle = next(r for r in POLICY["retry"] if r["ErrorEquals"] == ["Lambda.TooManyRequestsException"])
    # the longest a throttled call can back off before the recovery wait (full jitter waits up to this)
    ceiling = sum(min(throttle["MaxDelaySeconds"], throttle["IntervalSeconds"] * throttle["BackoffRate"] ** i)
                  for i in range(throttle["MaxAttempts"]))
    assert ceiling >= 300, "a busy ERP gets minutes, not seconds, before an operator is asked"


def _source(states, **top):
    return {"workflow": "w", "Comment": "c", "StartAt": next(iter(states)), "on_error": "Failed",
            "States": {**states, "Failed": {"Type": "Fail"}}, **top}


def test_a_new_step_is_a_few_lines_and_gets_the_whole_policy():
    # Given a call of ten lines or fewer in a source
    step = {"call": "erp erp.book", "Comment": "book it", "ResultPath": "$.erp", "on_outage": "AwaitErp",
            "Next": "Done"}
    machine = asl.render(_source({"Book": step, "AwaitErp": {"wait": "erp_outage", "Next": "Book"},
                                  "Done": {"Type": "Succeed"}}), POLICY)
    book = machine["States"]["Book"]
    # Then it is a Task queued on the ERP work queue with the payload and its token, the retries, a bounded wait,
    # the outage catch (a timeout included) and the catch-all
    assert book["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert book["Parameters"] == {"QueueUrl": "${ErpWorkQueueUrl}", "MessageBody": {
        "action": "erp.book", "workflow": "w", "task_token.$": "$$.Task.Token", "state.$": "$"}}
    assert book["TimeoutSeconds"] == POLICY["work_queues"]["erp"]["TimeoutSeconds"]
    assert book["Retry"] == POLICY["retry"]
    assert [c["Next"] for c in book["Catch"]] == ["AwaitErp", "Failed"]
    assert book["Catch"][0]["ErrorEquals"] == [*POLICY["outage_errors"], "States.Timeout"]
    assert machine["States"]["AwaitErp"]["TimeoutSeconds"] == asl.wait_kinds()["erp_outage"]["wait_timeout_seconds"]


def test_a_wait_gets_its_bounds_from_its_kind_and_a_heartbeat_only_where_its_kind_can_be_acknowledged():
    kinds = {"slow": {"wait_timeout_seconds": 100}, "acked": {"wait_timeout_seconds": 100, "heartbeat_seconds": 10}}
    states = {"A": {"wait": "slow", "Next": "B"}, "B": {"wait": "acked", "End": True}}
    machine = asl.render(_source(states), POLICY, kinds)["States"]
    assert (machine["A"]["TimeoutSeconds"], "HeartbeatSeconds" in machine["A"]) == (100, False)
    assert (machine["B"]["TimeoutSeconds"], machine["B"]["HeartbeatSeconds"]) == (100, 10)


@pytest.mark.parametrize("state, reason", [
    ({"Type": "Task", "Resource": "arn:aws:lambda:x", "End": True}, "`call:` or `wait:`"),
    ({"wait": "unheard_of", "End": True}, "no wait_timeout_seconds"),
    ({"wait": "erp_outage", "TimeoutSeconds": 60, "End": True}, "bounds come from its kind"),
    ({"wait": "erp_outage", "HeartbeatSecondsPath": "$.x", "TimeoutSecondsPath": "$.y", "End": True},
     "nothing acknowledges it"),
    ({"wait": "approval", "TimeoutSecondsPath": "$.y", "End": True}, "reads HeartbeatSecondsPath too"),
    ({"call": "erp erp.book", "retry": 3, "End": True}, "unknown shorthand"),
    ({"call": "erp erp.book", "TimeoutSeconds": 5, "End": True}, "its work queue's, in the policy"),
    ({"call": "erp erp.book"}, "exactly one of Next and End"),
    ({"Type": "Pass", "on_error": "Failed", "End": True}, "shorthands are for"),
])
def test_a_source_that_escapes_the_policy_is_refused(state, reason):
    with pytest.raises(asl.WorkflowSourceError, match=reason):
        asl.render(_source({"Step": state}), POLICY)


def test_a_call_to_a_system_without_a_work_queue_invokes_its_adapter():
    # Given a CRM call (the CRM has no work queue in the policy)
    machine = asl.render(_source({"Write": {"call": "crm crm.activate_account", "End": True}}), POLICY)
    write = machine["States"]["Write"]
    # Then it is the plain adapter ARN, unbounded by a queue timeout, and a timeout is not an outage of it
    assert write["Resource"] == "${CrmAdapterArn}" and "TimeoutSeconds" not in write
    assert write["Parameters"] == {"action": "crm.activate_account", "workflow": "w", "state.$": "$"}
