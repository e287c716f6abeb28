"""What a consumer does with a failing message (erphub.consuming), against an in-memory SQS and stores:
failures recorded, retried after short growing delays, dead-lettered with the reason on the last receive or
at once when retrying cannot help, and a FIFO group held only as long as its failure."""

import json
from types import SimpleNamespace

import pytest
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor

from erphub import consuming
from erphub.errors import NotFound, RateLimited

pytestmark = pytest.mark.unit

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:postings.fifo"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:postings-dlq.fifo"
MAX_RECEIVES = 4


class FakeSqs:
    def __init__(self) -> None:
        self.visibility: dict[str, int] = {}
        self.sent: list[dict] = []

    def get_queue_url(self, QueueName, QueueOwnerAWSAccountId):
        return {"QueueUrl": f"https://sqs.local/{QueueOwnerAWSAccountId}/{QueueName}"}

    def get_queue_attributes(self, QueueUrl, AttributeNames):
        return {"Attributes": {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN,
                                                             "maxReceiveCount": MAX_RECEIVES})}}

    def change_message_visibility_batch(self, QueueUrl, Entries):
        self.visibility |= {e["ReceiptHandle"]: e["VisibilityTimeout"] for e in Entries}

    def send_message(self, **request):
        self.sent.append(request)
        return {"MessageId": f"dlq-{len(self.sent)}"}


class FakeFailures:
    recorded: list = []
    dead_lettered: list = []

    def record(self, failure) -> None:
        self.recorded.append(failure)

    def mark_dead_lettered(self, *args) -> None:
        self.dead_lettered.append(args)


class FakeWorkflows:
    opened: list = []

    def open_exception(self, correlation_id, workflow, kind, reason, **kwargs) -> str:
        self.opened.append({"correlation_id": correlation_id, "workflow": workflow, "kind": kind, "reason": reason,
                            **kwargs})
        return f"exc-{len(self.opened)}"


@pytest.fixture
def sqs(monkeypatch, hub_settings):
    fake = FakeSqs()
    monkeypatch.setattr(consuming.aws, "client", lambda service: fake)
    monkeypatch.setattr(consuming, "FailureStore", FakeFailures)
    monkeypatch.setattr(consuming, "WorkflowStore", FakeWorkflows)
    hub_settings(RETRY_DELAY_SECONDS="15")
    FakeFailures.recorded, FakeFailures.dead_lettered, FakeWorkflows.opened = [], [], []
    return fake


def _record(message_id: str, group: str, body: str = "", receives: int = 1) -> dict:
    body = body or json.dumps({"detail": {"correlation_id": f"corr-{message_id}", "fails": message_id}})
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body, "eventSource": "aws:sqs",
            "eventSourceARN": QUEUE_ARN, "attributes": {"ApproximateReceiveCount": str(receives),
                                                        "MessageGroupId": group}}


def _consumer(failing: dict[str, Exception], handled: list[str], reserve: float = 0) -> consuming.Consumer:
    def handle(record):
        if record.message_id in failing:
            raise failing[record.message_id]
        json.loads(record.body)  # a malformed body fails as a real consumer's parsing does
        handled.append(record.message_id)
        return {}

    return consuming.Consumer("erp_posting", handle, SqsFifoPartialProcessor(skip_group_on_error=True),
                              time_reserve_seconds=reserve)


def _context(remaining_ms: int = 60_000):
    return SimpleNamespace(get_remaining_time_in_millis=lambda: remaining_ms)


def test_retry_delays_grow_per_receive_are_capped_and_respect_a_rate_limit(hub_settings):
    hub_settings(RETRY_DELAY_SECONDS="15")
    assert [consuming.retry_delay(n) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert consuming.retry_delay(12) == consuming.MAX_RETRY_DELAY_SECONDS
    assert consuming.retry_delay(1, RateLimited("slow down", retry_after=100)) == 101


def test_a_failure_is_recorded_and_retried_soon_holding_only_its_own_group(sqs):
    # Given a batch: a posting of customer A that fails, another of A behind it, and one of customer B
    handled: list[str] = []
    event = {"Records": [_record("a1", "A"), _record("a2", "A"), _record("b1", "B")]}
    # When the consumer processes it
    response = _consumer({"a1": NotFound("customer not in the ERP yet")}, handled)(event, _context())
    # Then B went on; A's two come back together after the first delay, not after the visibility timeout
    assert handled == ["b1"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "a1"}, {"itemIdentifier": "a2"}]}
    assert sqs.visibility == {"rh-a1": 15, "rh-a2": 15}
    # And the failure of a1 (only) is recorded with its reason; nothing is dead-lettered yet
    [failure] = FakeFailures.recorded
    assert (failure.message_id, failure.error_type, failure.receive_count, failure.queue) == \
        ("a1", "NotFound", 1, "postings.fifo")
    assert failure.correlation_id == "corr-a1" and sqs.sent == [] and FakeWorkflows.opened == []


def test_on_its_last_receive_a_message_is_dead_lettered_with_its_reason_and_its_group_goes_on(sqs):
    handled: list[str] = []
    event = {"Records": [_record("a1", "A", receives=MAX_RECEIVES), _record("a2", "A", receives=MAX_RECEIVES)]}
    response = _consumer({"a1": NotFound("customer not in the ERP yet")}, handled)(event, _context())
    # the poison left the queue (reported processed), the next posting of its customer was processed at once
    assert response == {"batchItemFailures": []} and handled == ["a2"]
    [moved] = sqs.sent
    assert moved["QueueUrl"].endswith("/postings-dlq.fifo") and moved["MessageGroupId"] == "A"
    assert moved["MessageDeduplicationId"] == "a1" and moved["MessageBody"] == event["Records"][0]["body"]
    why = {name: a["StringValue"] for name, a in moved["MessageAttributes"].items()}
    assert why["erphub.error_type"] == "NotFound" and why["erphub.receive_count"] == str(MAX_RECEIVES)
    [exception] = FakeWorkflows.opened
    assert exception["kind"] == "dead_letter" and exception["correlation_id"] == "corr-a1"
    assert exception["seed"] == "postings.fifo:a1" and exception["detail"]["dead_letter_queue"] == "postings-dlq.fifo"
    assert FakeFailures.dead_lettered == [("postings.fifo", "a1", "postings-dlq.fifo", "exc-1", "dlq-1")]


def test_a_malformed_message_is_dead_lettered_on_its_first_receive(sqs):
    response = _consumer({}, [])({"Records": [_record("m1", "A", body="{not json")]}, _context())
    assert response == {"batchItemFailures": []}
    assert [s["MessageDeduplicationId"] for s in sqs.sent] == ["m1"]
    assert FakeFailures.recorded[0].error_type == "JSONDecodeError"
    assert FakeWorkflows.opened[0]["correlation_id"] == "postings.fifo:m1"  # no correlation id to be had


def test_with_too_little_time_left_a_message_is_handed_back_at_once_unrecorded(sqs):
    handled: list[str] = []
    response = _consumer({}, handled, reserve=65)({"Records": [_record("a1", "A")]}, _context(remaining_ms=30_000))
    assert handled == [] and response == {"batchItemFailures": [{"itemIdentifier": "a1"}]}
    assert sqs.visibility == {"rh-a1": 0} and FakeFailures.recorded == []


def test_when_the_dead_letter_queue_refuses_the_message_is_retried_and_sqs_redrive_remains(sqs, monkeypatch):
    from botocore.exceptions import ClientError

    def refuse(**request):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage")

    monkeypatch.setattr(sqs, "send_message", refuse)
    event = {"Records": [_record("a1", "A", receives=MAX_RECEIVES)]}
    response = _consumer({"a1": NotFound("gone")}, [])(event, _context())
    assert response == {"batchItemFailures": [{"itemIdentifier": "a1"}]} and FakeWorkflows.opened == []
    assert sqs.visibility == {"rh-a1": 15 * 2 ** (MAX_RECEIVES - 1)}


def test_when_the_failure_record_cannot_be_written_the_message_still_fails_with_its_own_error(sqs, monkeypatch):
    class BrokenStore:
        def __init__(self) -> None:
            raise RuntimeError("WORKFLOW_TABLE is not configured")

    monkeypatch.setattr(consuming, "FailureStore", BrokenStore)
    response = _consumer({"a1": NotFound("customer not in the ERP yet")}, [])({"Records": [_record("a1", "A")]},
                                                                                _context())
    assert response == {"batchItemFailures": [{"itemIdentifier": "a1"}]} and sqs.visibility == {"rh-a1": 15}
