"""Reading dead-letter queues: peeking at messages (receive, then release at once) and finding why each failed.

Why a message failed is found, in this order, in: the `erphub.*` attributes the consumers put on what they
dead-letter (erphub.consuming), the failure record of its source message (store/failures.py; SQS's own redrive
keeps the message id), EventBridge's DLQ attributes (ERROR_CODE, ERROR_MESSAGE, RULE_ARN, TARGET_ARN), or the
Lambda on-failure record in the body (the publisher's stream failures).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel

from erphub import aws
from erphub.errors import HubError, Transient
from erphub.observability import logger
from erphub.store.failures import FailureStore

BODY_CHARS = 16_000


class FailureReason(BaseModel):
    error_type: str
    error: str
    receive_count: int | None = None
    attempts: int | None = None
    consumer: str = ""
    recorded_by: Literal["consumer", "failure_record", "eventbridge", "lambda_destination", "none"]


class DeadLetter(BaseModel):
    message_id: str
    sent_at: datetime | None
    source_queue: str
    source_message_id: str
    correlation_id: str
    exception_id: str
    reason: FailureReason
    body: str


def queue_name(url_or_arn: str) -> str:
    return url_or_arn.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def receive(url: str, visibility: int) -> list[dict[str, Any]]:
    try:
        return list(aws.client("sqs").receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=visibility, WaitTimeSeconds=0,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", []))
    except ClientError as exc:
        raise Transient(f"could not read {queue_name(url)}", system="sqs") from exc


def release(url: str, received: list[dict[str, Any]]) -> None:
    """Make messages visible again at once (a peek, or those a one-message redrive passed over)."""
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
               for i, m in enumerate(received)]
    for start in range(0, len(entries), 10):
        try:
            aws.client("sqs").change_message_visibility_batch(QueueUrl=url, Entries=entries[start:start + 10])
        except ClientError:  # they come back by themselves when their visibility timeout ends
            logger.warning("could not release peeked messages", extra={"queue": queue_name(url)})


def peek(url: str, limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    try:
        while len(found) < limit:
            batch = receive(url, 30)
            if not batch:
                break
            found += batch
    finally:
        release(url, found)
    return found[:limit]


def attributes(message: dict[str, Any]) -> dict[str, str]:
    return {k: str(v.get("StringValue", "")) for k, v in message.get("MessageAttributes", {}).items()}


def dead_letter(message: dict[str, Any], sources: list[str]) -> DeadLetter:
    attrs = attributes(message)
    source = attrs.get("erphub.source_queue") or (queue_name(attrs["TARGET_ARN"]) if "TARGET_ARN" in attrs else "") or (
        queue_name(sources[0]) if len(sources) == 1 else "")
    source_id = attrs.get("erphub.source_message_id") or message["MessageId"]
    record = _failure_record(source, source_id)
    sent = message.get("Attributes", {}).get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"], sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        source_queue=source, source_message_id=source_id, correlation_id=str((record or {}).get("correlation_id", "")),
        exception_id=str((record or {}).get("exception_id", "")), reason=_reason(attrs, record, message["Body"]),
        body=message["Body"][:BODY_CHARS])


def _failure_record(queue: str, message_id: str) -> dict[str, Any] | None:
    if not queue:
        return None
    try:
        return FailureStore().failure(queue, message_id)
    except HubError:
        logger.exception("could not read a failure record", extra={"queue": queue, "message_id": message_id})
        return None


def _reason(attrs: dict[str, str], record: dict[str, Any] | None, body: str) -> FailureReason:
    if "erphub.error_type" in attrs:
        return FailureReason(error_type=attrs["erphub.error_type"], error=attrs.get("erphub.error", ""),
                             receive_count=int(attrs.get("erphub.receive_count") or 0) or None,
                             attempts=int(record["attempts"]) if record and "attempts" in record else None,
                             consumer=attrs.get("erphub.consumer", ""), recorded_by="consumer")
    if record:
        return FailureReason(error_type=str(record.get("error_type", "")), error=str(record.get("error", "")),
                             receive_count=int(record.get("receive_count", 0)) or None,
                             attempts=int(record.get("attempts", 0)) or None, consumer=str(record.get("consumer", "")),
                             recorded_by="failure_record")
    if "ERROR_CODE" in attrs:
        return FailureReason(error_type=attrs["ERROR_CODE"], error=attrs.get("ERROR_MESSAGE", ""),
                             attempts=int(attrs.get("RETRY_ATTEMPTS") or 0) or None,
                             consumer=queue_name(attrs.get("RULE_ARN", "")), recorded_by="eventbridge")
    return _lambda_destination_reason(body)


def _lambda_destination_reason(body: str) -> FailureReason:
    """A Lambda on-failure record (the publisher's stream batches): the condition and the function's error."""
    try:
        record = json.loads(body)
        context, response = record["requestContext"], record.get("responseContext", {})
        return FailureReason(error_type=str(response.get("functionError") or context["condition"]),
                             error=f"{context['condition']} after {context.get('approximateInvokeCount')} invocations"
                                   f" of {queue_name(str(context.get('functionArn', '')))}",
                             attempts=context.get("approximateInvokeCount"), recorded_by="lambda_destination")
    except (ValueError, KeyError, TypeError):
        return FailureReason(error_type="unknown", error="no reason was recorded (the consumer crashed or timed out)",
                             recorded_by="none")
