"""How every SQS consumer processes a batch: Powertools partial batch failures, plus what happens to a
message that fails, so that a poison message is bounded, explained and seen by an operator:

- each failure is recorded (`store.failures`): error type, message, receive count, attempts;
- a failed message comes back after a short, growing delay (ChangeMessageVisibility), not after the
  queue's whole visibility timeout, which stays >= 6x the function's timeout (AWS's rule for SQS sources);
- on its last allowed receive (the queue's RedrivePolicy maxReceiveCount), or at once when retrying cannot
  help (a Permanent error, a malformed message), the consumer moves it to the queue's DLQ itself, with the
  reason as message attributes, and opens an exception. Doing it here rather than waiting for SQS to do it
  on the next receive frees a FIFO message group at once and spares the messages queued behind the poison
  in the same group a receive they did not fail (which would otherwise send them to the DLQ with it).
SQS's own redrive stays the backstop: a consumer that crashed or timed out records nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError
from pydantic import ValidationError

from erphub import aws
from erphub.errors import HubError, Permanent, RateLimited
from erphub.observability import logger, metrics, trace_keys
from erphub.settings import get_settings
from erphub.store.failures import FailureStore, MessageFailure
from erphub.store.workflow_state import WorkflowStore

DEAD_LETTER_KIND = "dead_letter"
# retrying the same bytes cannot fix these: the message goes to its DLQ on its first failure
NOT_RETRYABLE: tuple[type[BaseException], ...] = (Permanent, ValidationError, json.JSONDecodeError, KeyError,
                                                   TypeError)
MAX_RETRY_DELAY_SECONDS = 900
_ERROR_CHARS, _BODY_CHARS = 1000, 16_000


class NotAttempted(HubError):
    """Left for the next receive: too little time was left in this invocation to process it safely."""


@dataclass(frozen=True)
class Redrive:
    """A queue's retry budget, read from its own RedrivePolicy (the template is the one place it is set)."""

    queue_url: str
    max_receives: int
    dead_letter_url: str
    dead_letter_name: str


def redrive_of(queue_arn: str) -> Redrive | None:
    """The queue's redrive (None without a RedrivePolicy); read once per process (configuration) and queue."""
    return get_settings().resource(("consuming.redrive", queue_arn), lambda: _read_redrive(queue_arn))


def _read_redrive(queue_arn: str) -> Redrive | None:
    sqs = aws.client("sqs")
    url = _queue_url(queue_arn)
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
                        .get("Attributes", {}).get("RedrivePolicy") or "null")
    redrive = None
    if policy:
        dead_letter_arn = policy["deadLetterTargetArn"]
        redrive = Redrive(url, int(policy["maxReceiveCount"]), _queue_url(dead_letter_arn),
                          dead_letter_arn.rsplit(":", 1)[-1])
    return redrive


def _queue_url(queue_arn: str) -> str:
    *_, account, name = queue_arn.split(":")
    return str(aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def retry_delay(receive_count: int, error: BaseException | None = None) -> int:
    """Seconds until a failed message is received again: RETRY_DELAY_SECONDS, doubling per receive, capped;
    never sooner than a rate limit's Retry-After."""
    base = get_settings().retry_delay_seconds
    delay = min(base * 2 ** max(receive_count - 1, 0), MAX_RETRY_DELAY_SECONDS)
    if isinstance(error, RateLimited) and error.retry_after:
        delay = max(delay, min(int(error.retry_after) + 1, MAX_RETRY_DELAY_SECONDS))
    return delay


class Consumer:
    """`Consumer("erp_posting", post, processor)(event, context)` instead of process_partial_response.

    time_reserve_seconds: a record is not started with less time than this left in the invocation (it is
    handed back at once instead), so one slow batch never runs into the function's timeout.
    """

    def __init__(self, name: str, handler: Callable[[SQSRecord], Any], processor: BasePartialBatchProcessor,
                 *, time_reserve_seconds: float = 0) -> None:
        self.name, self.handler, self.processor = name, handler, processor
        self.time_reserve_ms = time_reserve_seconds * 1000
        # an all-failed batch is reported like a partial one, so the delays below still apply
        setattr(processor, "raise_on_entire_batch_failure", False)  # noqa: B010 - not declared on the base type

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        delays: dict[str, int] = {}

        def attempt(record: SQSRecord) -> Any:
            if self.time_reserve_ms and context.get_remaining_time_in_millis() < self.time_reserve_ms:
                delays[record.message_id] = 0
                raise NotAttempted("too little time left in this invocation", record=record.message_id)
            trace_keys(consumer=self.name, **_trace_of(record.body))
            try:
                return self.handler(record)
            except Exception as exc:
                return self._failed(record, exc, delays)

        response = process_partial_response(event=event, record_handler=attempt, processor=self.processor,
                                            context=context)
        failed = [{"itemIdentifier": str(f["itemIdentifier"])} for f in response.get("batchItemFailures", [])]
        _delay_retries(event.get("Records", []), failed, delays)
        return {"batchItemFailures": failed}

    def _failed(self, record: SQSRecord, exc: Exception, delays: dict[str, int]) -> dict[str, Any]:
        """Record the failure; raise it again (a retry) or, on the last receive, dead-letter the message."""
        count = int(record.attributes.approximate_receive_count or 1)
        redrive = _best_effort("read the redrive policy", lambda: redrive_of(record.event_source_arn))
        failure = MessageFailure(queue=record.event_source_arn.rsplit(":", 1)[-1], message_id=record.message_id,
                                 error_type=type(exc).__name__, error=str(exc)[:_ERROR_CHARS], receive_count=count,
                                 consumer=self.name, correlation_id=_correlation_id(record.body))
        logger.warning("message failed", extra={**asdict(failure), "redrive": bool(redrive)})
        _best_effort("record the failure", lambda: FailureStore().record(failure))
        final = redrive is not None and (isinstance(exc, NOT_RETRYABLE) or count >= redrive.max_receives)
        if not final or redrive is None:
            delays[record.message_id] = retry_delay(count, exc)
            raise exc
        try:
            moved_id = _dead_letter(record, failure, redrive)
        except ClientError:
            logger.exception("could not dead-letter; SQS's redrive will", extra={"message_id": record.message_id})
            delays[record.message_id] = retry_delay(count, exc)
            raise exc from None
        exception_id = self._open_exception(record, failure, redrive)
        _best_effort("mark the failure dead-lettered", lambda: FailureStore().mark_dead_lettered(
            failure.queue, failure.message_id, redrive.dead_letter_name, exception_id or "", moved_id))
        metrics.add_metric(name="queue_messages_dead_lettered", unit="Count", value=1)
        return {"dead_lettered": redrive.dead_letter_name, "exception_id": exception_id}

    def _open_exception(self, record: SQSRecord, failure: MessageFailure, redrive: Redrive) -> str | None:
        reason = f"{failure.error_type}: {failure.error}"
        detail = {"queue": failure.queue, "message_id": failure.message_id, "receive_count": failure.receive_count,
                  "dead_letter_queue": redrive.dead_letter_name, "error": failure.error_type,
                  "body": record.body[:_BODY_CHARS]}
        return _best_effort("open the exception", lambda: WorkflowStore().open_exception(
            failure.correlation_id or f"{failure.queue}:{failure.message_id}", self.name, DEAD_LETTER_KIND, reason,
            detail=detail, seed=f"{failure.queue}:{failure.message_id}"))


def _dead_letter(record: SQSRecord, failure: MessageFailure, redrive: Redrive) -> str:
    """Send the message, unchanged, to the DLQ with why it failed; returns its id there."""
    def text(value: object) -> dict[str, str]:
        return {"DataType": "String", "StringValue": str(value) or "-"}

    attributes = {"erphub.source_queue": text(failure.queue), "erphub.source_message_id": text(failure.message_id),
                  "erphub.error_type": text(failure.error_type), "erphub.error": text(failure.error),
                  "erphub.receive_count": {"DataType": "Number", "StringValue": str(failure.receive_count)},
                  "erphub.consumer": text(failure.consumer)}
    request: dict[str, Any] = {"QueueUrl": redrive.dead_letter_url, "MessageBody": record.body,
                               "MessageAttributes": attributes}
    if redrive.dead_letter_name.endswith(".fifo"):
        request["MessageGroupId"] = record.attributes.message_group_id or failure.queue
        request["MessageDeduplicationId"] = failure.message_id
    return str(aws.client("sqs").send_message(**request)["MessageId"])


def _delay_retries(records: list[dict[str, Any]], failures: list[dict[str, str]], delays: dict[str, int]) -> None:
    """Bring failed messages back after their delay. A FIFO message skipped because an earlier one of its
    group failed gets that one's delay, so the group is not held in flight longer than its failure."""
    by_id = {r["messageId"]: r for r in records}
    group_delay: dict[str, int] = {}
    for message_id, delay in delays.items():
        group = by_id.get(message_id, {}).get("attributes", {}).get("MessageGroupId")
        if group is not None:
            group_delay[group] = min(delay, group_delay.get(group, delay))
    entries: list[dict[str, Any]] = []
    for failed in failures:
        record = by_id.get(failed.get("itemIdentifier", ""))
        if record is None:
            continue
        attributes = record.get("attributes", {})
        delay = delays.get(record["messageId"], group_delay.get(attributes.get("MessageGroupId", ""),
                           retry_delay(int(attributes.get("ApproximateReceiveCount", 1)))))
        entries.append({"Id": str(len(entries)), "ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": delay})
    if entries:
        _best_effort("shorten the retry delay", lambda: _change_visibility(records[0]["eventSourceARN"], entries))


def _change_visibility(queue_arn: str, entries: list[dict[str, Any]]) -> None:
    redrive = redrive_of(queue_arn)  # its queue URL is read once per process, not at every failed batch
    url = redrive.queue_url if redrive else _queue_url(queue_arn)
    for start in range(0, len(entries), 10):
        aws.client("sqs").change_message_visibility_batch(QueueUrl=url, Entries=entries[start:start + 10])


def _trace_of(body: str) -> dict[str, str]:
    """The canonical event's correlation id and business key (the consumer's name is the rest of the story),
    for the log lines and the X-Ray annotations of this message."""
    try:
        detail = json.loads(body)["detail"]
        return {key: str(detail[key]) for key in ("correlation_id", "business_key") if detail.get(key)}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def _correlation_id(body: str) -> str:
    """The canonical event's correlation id when the body is a bus event (it may be anything: it failed)."""
    try:
        return str(json.loads(body)["detail"]["correlation_id"])
    except (ValueError, KeyError, TypeError):
        return ""


def _best_effort(what: str, call: Callable[[], Any]) -> Any:
    """Bookkeeping must never turn a handled message into a lost one, nor hide its error: log and go on."""
    try:
        return call()
    except Exception:  # any failure of the bookkeeping itself
        logger.exception(f"could not {what}")
        return None
