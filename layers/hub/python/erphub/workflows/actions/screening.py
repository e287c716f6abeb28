"""Hub actions that run several hub steps in one Task, because a state of their own would cost a Standard
state transition (and a Lambda invocation) and buy nothing: no other system is called between them and they
share one Retry policy and one catch target.

- `contract.screen`: the activation's gates in order (identity, data quality, approval), each only once the
  ones before it pass, with their answers where the separate steps put them (`$.identity`, `$.quality`,
  `$.approval`), so the waits, the failure recorder and every later step read them as before.
- `contract.check_and_lookup`: an amendment's stale-version check and, unless stale, its contract lookup
  (`$.version`, `$.identity`).

Their Tasks use `ResultPath: $`: the action answers the whole state with its results beside the input.
"""

from __future__ import annotations

from typing import Any

from erphub.workflows.actions import action
from erphub.workflows.actions.identity import lookup, resolve_customer
from erphub.workflows.actions.quality import check_quality, check_version, evaluate_approval
from erphub.workflows.run import Run

RESOLVED = ("resolved", "created")  # identity answers that let the gates go on; "conflict" waits for an operator


@action("contract.screen")
def screen(run: Run) -> dict[str, Any]:
    """Identity, then data quality, then approval; stops at the first gate that needs an operator. Identity is
    resolved again only while it is not resolved (first pass, or after an operator's decision): after a data
    fix the customer found before stands, as it did when the data-quality check was a state of its own."""
    state = dict(run.state)
    if (state.get("identity") or {}).get("status") not in RESOLVED:
        state["identity"] = resolve_customer(run)
        if state["identity"].get("status") not in RESOLVED:
            return state
    state["quality"] = check_quality(run)
    if not state["quality"].get("ok"):
        return state
    state["approval"] = evaluate_approval(run)
    return state


@action("contract.check_and_lookup")
def check_and_lookup(run: Run) -> dict[str, Any]:
    """A stale amendment is refused without looking its contract up (NotFound would fail it instead)."""
    state = {**run.state, "version": check_version(run)}
    if not state["version"]["stale"]:
        state["identity"] = lookup(run)
    return state
