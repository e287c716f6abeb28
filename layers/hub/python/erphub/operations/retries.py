"""Retry of a failed or compensated run: a NEW run, never a replay of the first.

Every outbound create carries an idempotency key made of the run's correlation id (Run.step_key), so running
the same correlation id again would get the first run's responses back (Stripe replays the cancelled
subscription, NetSuite finds the closed order) and report a false "completed". The retry therefore gets its
own correlation id, `<first>:retry<n>`: new keys recreate what compensation undid, its ledger and status are its
own (the failed run keeps its "failed"), and the business key, hence the customer and contract, stay the same.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.canonical import EventEnvelope
from erphub.errors import Conflict, Permanent, Transient
from erphub.settings import get_settings
from erphub.store import raw_bodies
from erphub.store.run_status import split_retry
from erphub.workflows.starter import execution_name

_NAME_MAX = 80


def next_run_id(correlation_id: str) -> tuple[str, int]:
    """'c' -> ('c:retry1', 1); 'c:retry1' -> ('c:retry2', 2)."""
    first, n = split_retry(correlation_id)
    return f"{first}:retry{n + 1}", n + 1


def start_again(exception: dict[str, Any]) -> dict[str, Any]:
    """Start the failed run's workflow again for the same event, as a new run."""
    workflow = exception["workflow"]
    arn = get_settings().state_machine_arns.get(workflow)
    event = (exception.get("detail") or {}).get("event")
    if not arn or not event:
        raise Permanent(f"exception {exception['exception_id']} has no {workflow} run to retry", system="hub",
                        record=exception["exception_id"])
    envelope = EventEnvelope.model_validate(raw_bodies.resolve_event(event))
    run_id, attempt = next_run_id(exception["correlation_id"])
    name = _retry_name(execution_name(envelope), attempt)
    run_input = {"event": event, "correlation_id": run_id, "retry_of": exception["correlation_id"]}
    try:
        started = aws.client("stepfunctions").start_execution(stateMachineArn=arn, name=name,
                                                              input=json.dumps(run_input, default=str))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ExecutionAlreadyExists":
            raise Conflict(f"retry {attempt} of {exception['correlation_id']} was started already",
                           system="stepfunctions", record=name) from exc
        raise Transient(f"could not start the retry: {code}", system="stepfunctions", record=name) from exc
    return {"correlation_id": run_id, "retry_of": exception["correlation_id"], "execution": name,
            "execution_arn": started["executionArn"], "attempt": attempt}


def _retry_name(first: str, attempt: int) -> str:
    suffix = f"-retry{attempt}"
    return first[: _NAME_MAX - len(suffix)] + suffix
