"""House rules between the workflows' waits and the exceptions they open: every task-token wait is bounded, opens
a kind of exception that has an owner and an SLA of its own in config/exception_kinds.json, and its SLA falls
before the wait gives up (the owner is told it is overdue while the run can still be saved)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from erphub.operations import kinds

ROOT = Path(__file__).resolve().parents[3]
MACHINES = sorted((ROOT / "statemachines").glob("*.asl.json"))
BUSINESS = json.loads((ROOT / "config" / "business.json").read_text())
# a wait whose timeout comes from its input: where the business configuration sets it (workflows/actions/quality.py)
TIMEOUT_FROM_INPUT = {"$.approval.timeout_seconds": ("approval", "timeout_seconds")}


def waits(states: dict) -> list[tuple[str, dict]]:
    found = []
    for name, state in states.items():
        if state["Type"] == "Task" and state["Resource"].endswith(".waitForTaskToken"):
            found.append((name, state))
        for branch in state.get("Branches", []):
            found += waits(branch["States"])
    return found


ALL_WAITS = [(path.stem, name, state) for path in MACHINES
             for name, state in waits(json.loads(path.read_text())["States"])]


def test_there_are_waits_to_check():
    assert len(ALL_WAITS) >= 9


@pytest.mark.parametrize(("machine", "name", "state"), ALL_WAITS, ids=[f"{m}.{n}" for m, n, _ in ALL_WAITS])
def test_every_wait_is_bounded_owned_and_escalated_before_it_gives_up(machine, name, state):
    kind = state["Parameters"]["Payload"]["kind"]
    assert kind in kinds.known(), f"{machine}.{name}: exception kind {kind!r} has no owner/SLA in exception_kinds.json"
    if "TimeoutSecondsPath" in state:
        section, key = TIMEOUT_FROM_INPUT[state["TimeoutSecondsPath"]]
        timeout = int(BUSINESS[section][key])
    else:
        timeout = int(state["TimeoutSeconds"])
    assert 0 < kinds.of(kind).sla_seconds < timeout, f"{machine}.{name}: SLA not before the wait gives up"
    assert "resume" in kinds.of(kind).actions or {"approve", "fix", "choose"} & set(kinds.of(kind).actions)
