"""What an operator does with an exception: approve or reject a deal, fix its data, choose the customer of an
identity conflict, resume after an outage, retry a failed run, abandon. Each action claims the exception first
(store/exceptions.py), so it reaches the workflow exactly once however often it is sent, and is audited.

The operator API (erphub.operations) calls these; `by` is the authenticated operator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Conflict, Permanent, Transient, ValidationFailed
from erphub.operations import audit, kinds
from erphub.store.exceptions import ExceptionStore
from erphub.store.workflow_state import RUNNING, WorkflowStore

# what Step Functions answers when the execution no longer waits on the token (timed out, ended, answered)
_GONE = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
Perform = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


def act(exception_id: str, action: str, by: str, note: str, perform: Perform) -> dict[str, Any]:
    """Claim, perform, resolve, audit. `perform(exception)` returns (resolution, outcome)."""
    store = ExceptionStore()
    current = store.get(exception_id)
    allowed = kinds.of(current["kind"]).actions
    if action not in allowed:
        raise ValidationFailed(f"a {current['kind']} exception takes {', '.join(allowed)}, not {action}",
                               system="hub", record=exception_id)
    before = store.claim(exception_id, action, by)
    try:
        resolution, outcome = perform(before)
    except _WorkflowGone as gone:
        store.resolve(exception_id, action=action, actor=by, resolution=f"expired: {gone.code}", note=note)
        audit.record(by, action, before, store.get(exception_id), note=note, outcome={"expired": gone.code})
        raise Conflict(f"the workflow no longer waits on {exception_id} ({gone.code}); nothing was sent",
                       system="stepfunctions", record=exception_id) from None
    except BaseException:
        store.release(exception_id)
        raise
    store.resolve(exception_id, action=action, actor=by, resolution=resolution, note=note, outcome=outcome)
    after = store.get(exception_id)
    audit_id = audit.record(by, action, before, after, note=note, outcome=outcome)
    return {"exception_id": exception_id, "action": action, "status": after["status"], "resolution": resolution,
            "outcome": outcome, "audit_id": audit_id}


class _WorkflowGone(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def send_success(exception: dict[str, Any], output: dict[str, Any]) -> None:
    """Answer the waiting task with `output` (what the waiting state puts at its ResultPath)."""
    token = _token(exception)
    try:
        aws.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output, default=str))
    except ClientError as exc:
        _raise_for(exc, exception)
    if "version" in exception:  # the run that waited on it runs on (exceptions opened before runs kept a version
        # have no run record to update)
        WorkflowStore().record_status(exception["correlation_id"], exception["workflow"], RUNNING,
                                      version=exception["version"], reason="")


def send_failure(exception: dict[str, Any], error: str, cause: str) -> None:
    token = _token(exception)
    try:
        aws.client("stepfunctions").send_task_failure(taskToken=token, error=error, cause=cause[:32768])
    except ClientError as exc:
        _raise_for(exc, exception)


def _token(exception: dict[str, Any]) -> str:
    token = exception.get("task_token")
    if not token:
        raise Permanent(f"exception {exception['exception_id']} has no workflow waiting on it", system="hub",
                        record=exception["exception_id"])
    return str(token)


def _raise_for(exc: ClientError, exception: dict[str, Any]) -> None:
    code = exc.response["Error"]["Code"]
    if code in _GONE:
        raise _WorkflowGone(code) from exc
    raise Transient(f"could not answer {exception['exception_id']}: {code}", system="stepfunctions") from exc


# --- the actions ------------------------------------------------------------------------------------------
def resume(exception_id: str, output: dict[str, Any] | None = None, *, by: str = "operator",
           note: str = "") -> dict[str, Any]:
    """After an outage (or a fix made in the source system): the waiting step runs again."""
    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        send_success(exception, {**(output or {}), "resumed_by": by, "note": note})
        return f"resumed by {by}", {}

    return act(exception_id, "resume", by, note, perform)


def decide(exception_id: str, approved: bool, by: str, note: str = "") -> dict[str, Any]:
    exception = WorkflowStore().exception(exception_id)
    if exception["workflow"] == "quote":  # a quote submitted through /api/v1 waits on no workflow
        from erphub.api import quotes

        return quotes.decide(exception, approved, by, note)
    decision = "approved" if approved else "rejected"

    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        send_success(exception, {"decision": decision, "by": by, "note": note})
        return f"{decision} by {by}", {"decision": decision}

    return act(exception_id, "approve" if approved else "reject", by, note, perform)


def fix_deal(exception_id: str, changes: dict[str, Any], *, by: str = "operator", note: str = "") -> dict[str, Any]:
    """Data-quality exception: the fix is written to the deal in the CRM that masters it (operations.masters),
    then the waiting deal with `changes` merged resumes the run; the diff is recorded with each field's master.
    A field the hub cannot write there is refused (422, nothing written): fix it in the CRM, then `reread`."""
    from erphub.operations import fixes, masters

    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        contract = exception["detail"]["event"]["data"]
        fixed = fixes.merge(contract, changes)
        diff = fixes.diff(contract, fixed)
        if not diff:
            raise ValidationFailed("the fix changes nothing", system="hub", record=exception_id)
        written = masters.write(exception, fixed, diff)  # idempotent: a retried fix writes the same values
        send_success(exception, fixed)
        return f"fixed by {by} in {written['system']}", {"diff": masters.written_to(diff, written["system"]),
                                                         "source": exception["detail"]["event"].get("source"),
                                                         "master_write": written}

    return act(exception_id, "fix", by, note, perform)


def reread_deal(exception_id: str, *, by: str = "operator", note: str = "") -> dict[str, Any]:
    """Data-quality exception fixed in the CRM by a person: the deal is read again from the CRM and the run
    resumes with it (the data-quality gate checks it again); the diff is what the CRM changed."""
    from erphub.operations import fixes, masters

    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        source, deal_id, waiting = masters.deal_of(exception)
        current = masters.reread(exception)
        diff = fixes.diff(waiting, current)
        if not diff:
            raise ValidationFailed(f"{source} deal {deal_id} still holds what the hub has: change it in {source} "
                                   "first", system=source, record=exception_id)
        send_success(exception, current)
        return f"re-read from {source} by {by}", {"diff": diff, "source": source, "reread_from": f"{source}:{deal_id}"}

    return act(exception_id, "reread", by, note, perform)


def choose_customer(exception_id: str, customer_id: str, by: str, note: str = "") -> dict[str, Any]:
    """Identity conflict: the account is linked to the chosen customer, the conflict record closed, and the
    workflow resolves the identity again."""
    from erphub.store.identity_table import IdentityStore

    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        event = exception["detail"]["event"]
        identity = exception["detail"].get("identity") or {}
        candidates = identity.get("candidates") or []
        if candidates and customer_id not in candidates:
            raise ValidationFailed(f"{customer_id} is not a candidate ({', '.join(candidates)})", system="hub",
                                   record=exception_id)
        account_id = event["data"]["account"]["account_id"]
        store = IdentityStore()
        if not store.link(customer_id, event["source"], account_id):
            raise Conflict(f"{event['source']} account {account_id} already belongs to another customer",
                           system="hub", record=exception_id)
        if identity.get("conflict_id"):
            store.close_conflict(identity["conflict_id"], customer_id, by)
        send_success(exception, {"chosen": customer_id, "by": by})
        return f"customer {customer_id} chosen by {by}", {"customer_id": customer_id,
                                                           "conflict_id": identity.get("conflict_id")}

    return act(exception_id, "choose", by, note, perform)


def acknowledge(exception_id: str, *, by: str, note: str = "") -> dict[str, Any]:
    """An approver has seen the request and needs time: a heartbeat keeps the approval wait from timing out at its
    heartbeat interval (ApprovalHeartbeatSeconds); the exception stays open. Audited."""
    store = ExceptionStore()
    exception = store.get(exception_id)
    if exception["status"] != "open":
        raise Conflict(f"exception {exception_id} is {exception['status']}", system="hub", record=exception_id)
    try:
        aws.client("stepfunctions").send_task_heartbeat(taskToken=_token(exception))
    except ClientError as exc:
        _raise_for(exc, exception)
    audit_id = audit.record(by, "acknowledge", exception, exception, note=note)
    return {"exception_id": exception_id, "action": "acknowledge", "status": exception["status"],
            "resolution": "", "outcome": {}, "audit_id": audit_id}


def abandon(exception_id: str, reason: str, *, by: str) -> dict[str, Any]:
    """Give up: a waiting run fails into its compensation (OperatorAbandoned); a run already ended stays as it is."""
    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if exception.get("task_token"):
            send_failure(exception, "OperatorAbandoned", f"abandoned by {by}: {reason}")
        return f"abandoned by {by}: {reason}", {"reason": reason}

    return act(exception_id, "abandon", by, reason, perform)


def retry(exception_id: str, *, by: str, note: str = "") -> dict[str, Any]:
    """A failed (possibly compensated) run starts again as a NEW run (erphub.operations.retries)."""
    from erphub.operations import retries

    def perform(exception: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        started = retries.start_again(exception)
        return f"retried by {by} as {started['correlation_id']}", started

    return act(exception_id, "retry", by, note, perform)
