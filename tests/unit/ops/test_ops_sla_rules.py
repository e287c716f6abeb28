"""House rules between the workflows' waits and the exceptions they open: every task-token wait opens a kind of
exception that has an owner and an SLA of its own in config/exception_kinds.json, is bounded by that kind's
wait_timeout_seconds (and heartbeat_seconds where an operator can acknowledge it) and nothing else, its SLA falls
before the wait gives up (the owner is told it is overdue while the run can still be saved), and a wait that
times out ends in the workflow's failure recorder, which escalates the exception (overdue, owner notified)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from erphub import business_config
from erphub.operations import kinds
from erphub.workflows.actions import quality

ROOT = Path(__file__).resolve().parents[3]
MACHINES = sorted((ROOT / "statemachines").glob("*.asl.json"))
COMMITTED = business_config.parse((ROOT / "config" / "business.json").read_text())
# a wait whose bounds come from its input: the action that answers them (from the same kind configuration)
BOUNDS_FROM_INPUT = {"$.approval": quality.approval_bounds}
# kinds whose waiting side can send heartbeats (erphub.workflows.operator.acknowledge: SendTaskHeartbeat)
ACKNOWLEDGED = {"approval"}
RECORDS_FAILURE = "outcome.failed"  # closes the run's waits, marking a timed-out one overdue (its owner is told)


def waits(states: dict) -> list[tuple[str, dict]]:
    found = []
    for name, state in states.items():
        # the exception waits; a queued ERP call (sqs:sendMessage.waitForTaskToken) opens none: its bound is the
        # work queue's (tests/unit/workflows/test_workflow_sources.py)
        if state["Type"] == "Task" and state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken":
            found.append((name, state))
        for branch in state.get("Branches", []):
            found += waits(branch["States"])
    return found


ALL_WAITS = [(path.stem, name, state) for path in MACHINES
             for name, state in waits(json.loads(path.read_text())["States"])]


def test_there_are_waits_to_check():
    assert len(ALL_WAITS) >= 9


def bounds(state: dict, monkeypatch) -> tuple[int, int | None]:
    """(TimeoutSeconds, HeartbeatSeconds) the wait holds its token for, with the committed business
    configuration (which shortens nothing)."""
    if "TimeoutSecondsPath" not in state:
        return int(state["TimeoutSeconds"]), state.get("HeartbeatSeconds")
    source = state["TimeoutSecondsPath"].rsplit(".", 1)[0]
    assert state["HeartbeatSecondsPath"] == f"{source}.heartbeat_seconds"
    monkeypatch.setattr(business_config, "current", lambda: COMMITTED)
    answered = BOUNDS_FROM_INPUT[source]()
    return answered["timeout_seconds"], answered["heartbeat_seconds"]


@pytest.mark.parametrize(("machine", "name", "state"), ALL_WAITS, ids=[f"{m}.{n}" for m, n, _ in ALL_WAITS])
def test_every_wait_is_bounded_by_its_kind_owned_and_escalated_before_it_gives_up(machine, name, state, monkeypatch):
    kind = state["Parameters"]["Payload"]["kind"]
    assert kind in kinds.known(), f"{machine}.{name}: exception kind {kind!r} has no owner/SLA in exception_kinds.json"
    settings = kinds.of(kind)
    assert settings.wait_timeout_seconds, f"{machine}.{name}: {kind!r} has no wait_timeout_seconds"
    timeout, heartbeat = bounds(state, monkeypatch)
    assert (timeout, heartbeat) == (settings.wait_timeout_seconds, settings.heartbeat_seconds), f"{machine}.{name}"
    assert (heartbeat is not None) == (kind in ACKNOWLEDGED), f"{machine}.{name}: a heartbeat nothing can send"
    assert 0 < settings.sla_seconds < min(timeout, heartbeat or timeout), f"{machine}.{name}: SLA after the wait ends"
    assert "resume" in settings.actions or {"approve", "fix", "choose"} & set(settings.actions)


def graph(states: dict, parent_catches: list[str] | None = None) -> dict[str, set[str]]:
    """State -> the states it can go to next (a Fail in a Parallel branch goes on to the Parallel's catches)."""
    edges: dict[str, set[str]] = {}
    for name, state in states.items():
        targets = {state.get("Next"), state.get("Default"), *(c["Next"] for c in state.get("Choices", [])),
                   *(c["Next"] for c in state.get("Catch", []))}
        if state["Type"] == "Fail":
            targets |= set(parent_catches or [])
        edges[name] = {t for t in targets if t}
        for branch in state.get("Branches", []):
            edges.update(graph(branch["States"], [c["Next"] for c in state.get("Catch", [])]))
    return edges


def tasks(states: dict) -> dict[str, dict]:
    found = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(tasks(branch["States"]))
    return found


@pytest.mark.parametrize(("machine", "name", "state"), ALL_WAITS, ids=[f"{m}.{n}" for m, n, _ in ALL_WAITS])
def test_a_wait_that_times_out_ends_in_the_failure_recorder_that_escalates_it(machine, name, state):
    definition = json.loads((ROOT / "statemachines" / f"{machine}.json").read_text())
    edges, every = graph(definition["States"]), tasks(definition["States"])
    catch = next(c for c in state["Catch"] if {"States.Timeout", "States.ALL"} & set(c["ErrorEquals"]))
    assert catch["ResultPath"] == "$.error"  # the recorder reads the timeout from the error
    seen, todo = set(), [catch["Next"]]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += edges.get(current, set())
    recorders = [s for s in seen if every[s].get("Parameters", {}).get("action") == RECORDS_FAILURE]
    assert recorders, f"{machine}.{name}: a timeout reaches no {RECORDS_FAILURE} ({sorted(seen)})"


def test_a_stage_may_shorten_the_approval_wait_but_never_lengthen_it(monkeypatch):
    approval = kinds.of("approval")

    def staged(timeout: int, heartbeat: int) -> None:
        policy = COMMITTED.approval.model_copy(update={"timeout_seconds": timeout, "heartbeat_seconds": heartbeat})
        config = COMMITTED.model_copy(update={"approval": policy})
        monkeypatch.setattr(business_config, "current", lambda: config)

    staged(4, 0)
    assert quality.approval_bounds() == {"timeout_seconds": 4, "heartbeat_seconds": 4}
    staged(10 * approval.wait_timeout_seconds, 60)
    assert quality.approval_bounds() == {"timeout_seconds": approval.wait_timeout_seconds, "heartbeat_seconds": 60}
