"""The ERP work queue: how the workflows' ERP steps reach the ERP adapter within the ERP's budget.

A workflow's ERP Task (`call: erp ...`, tools/asl.py) is `sqs:sendMessage.waitForTaskToken` onto the ERP work
queue with the message {"action", "workflow", "state", "task_token", ...}. The ERP adapter consumes that queue
(its event source's ScalingConfig.MaximumConcurrency is the budget, so a slot that frees takes the next message
at once: no throttled attempt, no jittered wait) and answers the run:

- the action's result -> SendTaskSuccess, which lands at the Task's ResultPath as a plain Lambda call's would;
- the action's error -> SendTaskFailure with the error's class name (Transient, RateLimited, Permanent,
  ValidationFailed, ...) and a Lambda-shaped JSON cause, so the policy's Retry/Catch, the compensations and the
  ERP-outage wait see exactly what they saw when the Task invoked the adapter.

A message is done once the run has its answer. SQS delivers at least once, so an action may run twice for one
Task: the ERP actions write by external id (idempotent), and the second answer finds the task closed
(TaskTimedOut/TaskDoesNotExist/InvalidToken), which means nobody waits for it any more: logged, not retried.
Only a message that cannot be answered (no token, or Step Functions unreachable) fails, and goes the way of
every consumer's failure (erphub.consuming: recorded, retried, dead-lettered with an exception).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Permanent
from erphub.kpis import vendor_calls
from erphub.observability import logger, metrics

SYSTEM = "erp"
# Step Functions' answers to a token whose Task is already closed (answered, timed out, or its run stopped)
CLOSED_TASK = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}
CAUSE_CHARS = 32_768  # SendTaskFailure's limit on `cause`


class UnanswerableWork(Permanent):
    """A work message without a task token: no run waits for it, so it is dead-lettered, never run."""


def answer(record: SQSRecord, run_action: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> str:
    """Run one work message's action and answer its run; returns how it ended ("succeeded", "failed", "closed")."""
    from erphub import adapters

    work = _work(record.body)
    token = work.pop("task_token")
    try:
        result = (run_action or adapters.handle)(SYSTEM, work)
    except Exception as exc:  # every error of the action is the run's to handle, by its class name
        error, cause = type(exc).__name__, _cause(exc)
        logger.info("action failed", extra={"error": error})
        return _send("failed", lambda sfn: sfn.send_task_failure(taskToken=token, error=error, cause=cause))
    return _send("succeeded", lambda sfn: sfn.send_task_success(
        taskToken=token, output=json.dumps(result, default=str)))


def _work(body: str) -> dict[str, Any]:
    work = json.loads(body)
    if not isinstance(work, dict) or not work.get("task_token") or not work.get("action"):
        raise UnanswerableWork("an ERP work message needs an action and a task token", system=SYSTEM)
    return work


def _cause(exc: Exception) -> str:
    """The cause as Lambda reports a function error, so readers of $.error.Cause (outcome.describe_error) see
    the same JSON whichever way the step ran."""
    return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__})[:CAUSE_CHARS]


def _send(outcome: str, call: Callable[[Any], Any]) -> str:
    try:
        call(aws.client("stepfunctions"))
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in CLOSED_TASK:
            raise  # Step Functions did not take the answer: the message comes back and is answered again
        logger.warning("the run no longer waits for this answer", extra={"answer": outcome,
                                                                         "code": exc.response["Error"]["Code"]})
        outcome = "closed"
    metrics.add_metric(name="erp_work_answered", unit="Count", value=1)
    return outcome


def handler(direct: Callable[[dict, Any], Any], work: Callable[[dict, Any], dict]) -> Callable[[dict, Any], Any]:
    """The ERP adapter's handler: a batch of the work queue goes to `work` (a consuming.Consumer), any other
    event is a direct call ({"action": ...}: ERP posting, the renewal-risk consumer, tests) for `direct`. Both count
    their vendor calls with one write per invocation (kpis.vendor_calls.per_invocation)."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    @vendor_calls.per_invocation
    def consume(event: dict, context: Any) -> dict:
        return work(event, context)

    def lambda_handler(event: dict, context: Any) -> Any:
        if isinstance(event, dict) and "Records" in event:
            return consume(event, context)
        return direct(event, context)

    return lambda_handler
