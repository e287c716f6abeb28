"""What an operator does with an exception a workflow waits on: resume it (after fixing the cause), approve
or reject a deal, pick the customer of an identity conflict. Each sends the task token's answer once."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Conflict, Permanent, Transient
from erphub.store.workflow_state import RUNNING, WorkflowStore


def resume(exception_id: str, output: dict[str, Any] | None = None, *, resolution: str = "resumed") -> dict[str, Any]:
    """Answer the waiting task with `output` (what the waiting state puts at its ResultPath)."""
    store = WorkflowStore()
    exception = store.exception(exception_id)
    if exception["status"] != "open":
        raise Conflict(f"exception {exception_id} is {exception['status']}", system="hub", record=exception_id)
    token = exception.get("task_token")
    if not token:
        raise Permanent(f"exception {exception_id} has no workflow waiting on it", system="hub", record=exception_id)
    try:
        aws.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output or {}, default=str))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
            store.close_exception(exception_id, f"expired: {code}")
            raise Conflict(f"the workflow no longer waits on {exception_id}: {code}", system="stepfunctions",
                           record=exception_id) from exc
        raise Transient(f"could not resume {exception_id}: {code}", system="stepfunctions") from exc
    store.close_exception(exception_id, resolution)
    store.record_status(exception["correlation_id"], exception["workflow"], RUNNING, reason="")
    return {"exception_id": exception_id, "resolution": resolution}


def acknowledge(exception_id: str) -> None:
    """An approver has seen the request: the heartbeat keeps the approval wait from timing out early."""
    token = WorkflowStore().exception(exception_id).get("task_token")
    try:
        aws.client("stepfunctions").send_task_heartbeat(taskToken=token)
    except ClientError as exc:
        raise Conflict(f"the workflow no longer waits on {exception_id}", system="stepfunctions",
                       record=exception_id) from exc


def fix_deal(exception_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Data-quality exception: the corrected contract (the waiting deal with `changes` merged) resumes it."""
    contract = WorkflowStore().exception(exception_id)["detail"]["event"]["data"]
    return resume(exception_id, _merge(contract, changes), resolution="fixed")


def decide(exception_id: str, approved: bool, by: str, note: str = "") -> dict[str, Any]:
    exception = WorkflowStore().exception(exception_id)
    if exception["workflow"] == "quote":  # a quote submitted through /api/v1 waits on no workflow
        from erphub.api import quotes

        return quotes.decide(exception, approved, by, note)
    decision = "approved" if approved else "rejected"
    return resume(exception_id, {"decision": decision, "by": by, "note": note}, resolution=f"{decision} by {by}")


def choose_customer(exception_id: str, customer_id: str, by: str) -> dict[str, Any]:
    """Identity conflict: the account is linked to the chosen customer; the workflow resolves it again."""
    from erphub.store.identity import IdentityStore

    event = WorkflowStore().exception(exception_id)["detail"]["event"]
    account_id = event["data"]["account"]["account_id"]
    if not IdentityStore().link(customer_id, event["source"], account_id):
        raise Conflict(f"{event['source']} account {account_id} already belongs to another customer", system="hub",
                       record=exception_id)
    return resume(exception_id, {"chosen": customer_id, "by": by}, resolution=f"customer {customer_id} chosen by {by}")


def _merge(base: Any, changes: Any) -> Any:
    if isinstance(base, dict) and isinstance(changes, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in changes.items()}}
    return changes
