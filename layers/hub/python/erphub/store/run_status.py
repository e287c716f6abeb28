"""Where a contract stands, derived from the status records of its workflow runs (pure: no I/O).

Each run (one execution of one workflow for one contract version) keeps its own status record, so a late stale
amendment that is correctly refused records "refused" for itself only. The contract's view is derived from all
its runs: a refused run never hides a run that was not refused, and the contract's state in force comes from
its newest completed run.
"""

from __future__ import annotations

import re
from typing import Any

RUNNING, WAITING, COMPLETED, FAILED, REFUSED = "running", "waiting", "completed", "failed", "refused"
STATUS_PREFIX = "STATUS#"
# what a completed run of each workflow makes of the contract
IN_FORCE = {"activation": "active", "amendment": "amended", "renewal": "renewed", "cancellation": "cancelled"}
PENDING = "pending"  # no run of the contract has completed yet


_RETRY = re.compile(r"^(?P<first>.+):retry(?P<n>\d+)$")  # an operator's retry runs as <correlation id>:retry<n>


def split_retry(correlation_id: str) -> tuple[str, int]:
    """'c' -> ('c', 0); 'c:retry2' -> ('c', 2): a retry's status belongs with the contract it retries."""
    found = _RETRY.match(correlation_id)
    return (found["first"], int(found["n"])) if found else (correlation_id, 0)


def run_key(workflow: str, version: str | int | None, attempt: int = 0) -> str:
    """The sort key of a run's status record: workflow + contract version name one execution (the execution
    name is business key + version, and each workflow has its own state machine), + the retry it is."""
    key = f"{STATUS_PREFIX}{workflow}#{version if version not in (None, '') else '0'}"
    return f"{key}#retry{attempt}" if attempt else key


def _order(run: dict[str, Any]) -> str:
    return str(run.get("started_at") or run.get("updated_at") or "")


def contract_view(correlation_id: str, runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The contract's current run (the newest one not refused, else the newest refused one) with its fields at
    the top, plus `state` (active/amended/renewed/cancelled from the newest completed run that was not refused;
    `pending` before any; `refused` if every run was refused) and every run, oldest first."""
    if not runs:
        return None
    ordered = sorted(runs, key=_order)
    live = [r for r in ordered if r.get("status") != REFUSED]
    current = (live or ordered)[-1]
    completed = [r for r in live if r.get("status") == COMPLETED]
    state = (IN_FORCE.get(str(completed[-1].get("workflow")), COMPLETED) if completed
             else PENDING if live else REFUSED)
    return {**current, "correlation_id": correlation_id, "state": state, "runs": ordered}
