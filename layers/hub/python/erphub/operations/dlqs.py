"""Dead-letter queues: what sits in each, why (operations/dead_letters.py), and putting it back.

Which DLQs exist comes from the stack: DEAD_LETTER_QUEUES lists their URLs (the template gives the operator
function `!Ref` of each), and each one's source queue is what SQS itself reports (ListDeadLetterSourceQueues: the
queues whose RedrivePolicy names it).

Redrive: all of a DLQ with SQS StartMessageMoveTask where SQS offers it; otherwise (one message, a DLQ with no
single source queue, or where the API is not available, e.g. the local stack's moto) message by message in this
order: receive (hidden for REDRIVE_VISIBILITY_SECONDS) -> send to the destination -> delete from the DLQ. Stopped
anywhere before the send, the message simply reappears in the DLQ; stopped between the send and the delete, it is
in both, and redriving again sends it again: on a FIFO queue the deduplication id (its DLQ message id) drops that
second copy within SQS's 5-minute window; on a standard queue the consumer gets it twice and dedupes it as it
does any redelivery (docs/recovery.md). Deleting first could lose it, so it never does.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel

from erphub import aws
from erphub.errors import Conflict, HubError, NotFound, Permanent, Transient, ValidationFailed
from erphub.observability import logger, metrics
from erphub.operations import actor_name, configured
from erphub.operations.dead_letters import DeadLetter, attributes, dead_letter, peek, queue_name, receive, release
from erphub.store.workflow_state import WorkflowStore

REDRIVE_VISIBILITY_SECONDS = 60
MAX_PEEK = 100
REDRIVE_BUDGET_SECONDS = 20.0
# SQS answers these where StartMessageMoveTask cannot serve the queue; moto has no such API (HTTP 500)
_MOVE_UNAVAILABLE = {"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "InvalidParameterValue",
                     "InvalidAction", "UnknownOperationException"}
_EVENTBRIDGE_ATTRIBUTES = ("RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE", "EXHAUSTED_RETRY_CONDITION",
                           "RETRY_ATTEMPTS")


class DeadLetterQueue(BaseModel):
    name: str
    url: str
    source_queues: list[str]
    depth: int
    in_flight: int
    oldest_age_seconds: int | None
    oldest_exact: bool
    fifo: bool


class DeadLetters(BaseModel):
    queue: str
    depth: int
    messages: list[DeadLetter]


class RedriveResult(BaseModel):
    queue: str
    destination: str
    method: Literal["message_move_task", "receive_send_delete"]
    moved: int | None
    task_handle: str | None = None
    left: int
    closed_exceptions: int = 0
    actor: str


class PurgeResult(BaseModel):
    queue: str
    purged: int
    closed_exceptions: int
    actor: str


def dead_letter_queues() -> list[DeadLetterQueue]:
    return [_describe(queue, url) for queue, url in _queues().items()]


def depth(queue: str) -> int:
    """Messages visible in one DLQ now (what an audit entry records before and after an action)."""
    return _depth(_url(queue))[0]


def messages(queue: str, limit: int = 50) -> DeadLetters:
    """Up to `limit` messages with their failure reasons (a peek: each is released again at once)."""
    url = _url(queue)
    sources = _sources(url)
    peeked = peek(url, max(1, min(limit, MAX_PEEK)))
    return DeadLetters(queue=queue, depth=_depth(url)[0], messages=[dead_letter(m, sources) for m in peeked])


def redrive(queue: str, actor: str, message_id: str | None = None, limit: int = 1000) -> RedriveResult:
    """Put one message (message_id) or all of a DLQ back on its source queue (or, for EventBridge's delivery DLQ,
    on the rule target each message names)."""
    actor = actor_name(actor)
    url = _url(queue)
    sources = _sources(url)
    if message_id is None and len(sources) == 1:
        started = datetime.now(UTC).isoformat()
        handle = _start_move_task(url, sources[0])
        if handle:
            logger.info("dlq redrive task started", extra={"queue": queue, "actor": actor, "task": handle})
            # the task moves what the DLQ held when it started: those messages' exceptions are resolved by it
            closed = _close_exceptions_of(queue, started, f"redriven by {actor} (SQS move task)")
            return RedriveResult(queue=queue, destination=queue_name(sources[0]), method="message_move_task",
                                 moved=None, task_handle=handle, left=_depth(url)[0], closed_exceptions=closed,
                                 actor=actor)
    moved = _move_each(url, sources, actor, message_id, limit)
    if message_id is not None and not moved:
        raise NotFound(f"message {message_id} is not (or no longer) in {queue}", system="sqs", record=message_id)
    metrics.add_metric(name="dlq_messages_redriven", unit="Count", value=moved)
    destination = queue_name(sources[0]) if len(sources) == 1 else "per message"
    return RedriveResult(queue=queue, destination=destination, method="receive_send_delete", moved=moved,
                         left=_depth(url)[0], actor=actor)


def purge(queue: str, confirm: str, actor: str) -> PurgeResult:
    """Delete every message of a DLQ for good; `confirm` must repeat the queue's name."""
    actor = actor_name(actor)
    if confirm != queue:
        raise ValidationFailed(f"purging deletes every message for good: confirm with the queue name {queue!r}",
                               system="sqs", record=queue)
    url = _url(queue)
    depth, started = _depth(url)[0], datetime.now(UTC).isoformat()
    try:
        aws.client("sqs").purge_queue(QueueUrl=url)
    except ClientError as exc:
        if exc.response["Error"]["Code"].endswith("PurgeQueueInProgress"):
            raise Conflict(f"{queue} is being purged already (SQS allows one purge a minute)", system="sqs",
                           record=queue) from exc
        raise Transient(f"could not purge {queue}", system="sqs", record=queue) from exc
    logger.warning("dlq purged", extra={"queue": queue, "actor": actor, "messages": depth})
    closed = _close_exceptions_of(queue, started, f"purged by {actor}")
    return PurgeResult(queue=queue, purged=depth, closed_exceptions=closed, actor=actor)


def _close_exceptions_of(queue: str, before: str, resolution: str) -> int:
    """Resolve the open dead_letter exceptions of this DLQ's messages that were there before `before`."""
    from erphub.consuming import DEAD_LETTER_KIND

    store, closed = WorkflowStore(), 0
    for exception in store.exceptions(only_open=True):
        if (exception["kind"] == DEAD_LETTER_KIND and (exception.get("detail") or {}).get("dead_letter_queue") == queue
                and exception["opened_at"] < before):
            try:
                store.close_exception(exception["exception_id"], resolution)
                closed += 1
            except HubError:  # closed meanwhile
                continue
    return closed


# --- the queues ------------------------------------------------------------------------------------------
def _queues() -> dict[str, str]:
    urls = [u.strip() for u in configured("DEAD_LETTER_QUEUES").split(",") if u.strip()]
    return {queue_name(url): url for url in urls}


def _url(queue: str) -> str:
    url = _queues().get(queue)
    if url is None:
        raise NotFound(f"{queue} is not a dead-letter queue of this stack", system="sqs", record=queue)
    return url


def _sources(url: str) -> list[str]:
    """The queues whose RedrivePolicy names this DLQ, as SQS reports them."""
    try:
        pages = aws.client("sqs").get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=url)
        return [u for page in pages for u in page.get("queueUrls", [])]
    except ClientError as exc:
        raise Transient(f"could not read the source queues of {queue_name(url)}", system="sqs") from exc


def _depth(url: str) -> tuple[int, int]:
    try:
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    except ClientError as exc:
        raise Transient(f"could not read {queue_name(url)}", system="sqs") from exc
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _describe(queue: str, url: str) -> DeadLetterQueue:
    depth, in_flight = _depth(url)
    peeked = peek(url, MAX_PEEK) if depth else []
    sent = [int(m["Attributes"]["SentTimestamp"]) for m in peeked if "SentTimestamp" in m.get("Attributes", {})]
    oldest = int(time.time() - min(sent) / 1000) if sent else None
    return DeadLetterQueue(name=queue, url=url, source_queues=[queue_name(s) for s in _sources(url)], depth=depth,
                           in_flight=in_flight, oldest_age_seconds=oldest, oldest_exact=len(peeked) >= depth,
                           fifo=queue.endswith(".fifo"))


# --- redrive -------------------------------------------------------------------------------------------------
def _start_move_task(dlq_url: str, source_url: str) -> str | None:
    """The task handle, or None where SQS cannot move this queue's messages (then the caller moves them itself)."""
    sqs = aws.client("sqs")
    try:
        arns = [sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                for u in (dlq_url, source_url)]
        return str(sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])["TaskHandle"])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in _MOVE_UNAVAILABLE or exc.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode", 0) >= 500:
            logger.info("StartMessageMoveTask unavailable; moving message by message",
                        extra={"queue": queue_name(dlq_url), "error": error.get("Code")})
            return None
        if "MoveTask" in str(error.get("Message", "")) or error.get("Code") == "ResourceInUse":
            raise Conflict(f"a redrive of {queue_name(dlq_url)} is running already", system="sqs") from exc
        raise Transient(f"could not start the redrive of {queue_name(dlq_url)}", system="sqs") from exc


def _move_each(url: str, sources: list[str], actor: str, message_id: str | None, limit: int) -> int:
    """Receive -> send -> delete, message by message, within a time budget; returns how many moved. Whatever was
    received and not moved (passed over, not sendable, left when it stops) is made visible again at once."""
    moved, untouched = 0, []
    deadline = time.monotonic() + REDRIVE_BUDGET_SECONDS
    try:
        while time.monotonic() < deadline and moved < limit and not (message_id and moved):
            batch = receive(url, REDRIVE_VISIBILITY_SECONDS)
            if not batch:
                break
            untouched += batch
            for message in batch:
                if (message_id is not None and message["MessageId"] != message_id) or moved >= limit:
                    continue
                _send_back(message, _destination(message, sources), actor)
                untouched.remove(message)  # sent: from here on it is either deleted or in both queues
                _delete(url, message)
                _close_exception(message, sources, actor)
                moved += 1
    finally:
        release(url, untouched)
    return moved


def _destination(message: dict[str, Any], sources: list[str]) -> str:
    attrs = attributes(message)
    named = attrs.get("erphub.source_queue") or (queue_name(attrs["TARGET_ARN"]) if "TARGET_ARN" in attrs else "")
    if named:
        matching = [s for s in sources if queue_name(s) == named]
        if matching:
            return matching[0]
        try:
            return str(aws.client("sqs").get_queue_url(QueueName=named)["QueueUrl"])
        except ClientError as exc:
            raise NotFound(f"the source queue {named} does not exist", system="sqs", record=named) from exc
    if len(sources) == 1:
        return sources[0]
    raise Permanent(f"message {message['MessageId']} names no source queue to redrive to (a publisher failure "
                    "record: run the outbox sweep instead)", system="sqs", record=message["MessageId"])


def _send_back(message: dict[str, Any], destination: str, actor: str) -> None:
    kept = {k: v for k, v in message.get("MessageAttributes", {}).items()
            if not k.startswith("erphub.") and k not in _EVENTBRIDGE_ATTRIBUTES}
    kept["erphub.redriven_from"] = {"DataType": "String", "StringValue": message["MessageId"]}
    kept["erphub.redriven_by"] = {"DataType": "String", "StringValue": actor}
    request: dict[str, Any] = {"QueueUrl": destination, "MessageBody": message["Body"], "MessageAttributes": kept}
    if destination.endswith(".fifo"):
        attributes = message.get("Attributes", {})
        request["MessageGroupId"] = attributes.get("MessageGroupId") or queue_name(destination)
        request["MessageDeduplicationId"] = message["MessageId"]  # a second send after an interruption is dropped
    try:
        aws.client("sqs").send_message(**request)
    except ClientError as exc:
        raise Transient(f"could not send {message['MessageId']} back to {queue_name(destination)}", system="sqs",
                        record=message["MessageId"]) from exc


def _delete(url: str, message: dict[str, Any]) -> None:
    try:
        aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    except ClientError as exc:
        # it is on its source queue already; it reappears here and a later redrive sends it again (see above)
        raise Transient(f"{message['MessageId']} was redriven but is still in {queue_name(url)}", system="sqs",
                        record=message["MessageId"]) from exc


def _close_exception(message: dict[str, Any], sources: list[str], actor: str) -> None:
    """The message's dead_letter exception is resolved by the redrive (best effort: the redrive is done)."""
    letter = dead_letter(message, sources)
    if not letter.exception_id:
        return
    try:
        WorkflowStore().close_exception(letter.exception_id, f"redriven by {actor}")
    except HubError:  # closed already, or the table is unreachable: the message is back on its queue either way
        logger.info("dead-letter exception not closed", extra={"exception_id": letter.exception_id})
