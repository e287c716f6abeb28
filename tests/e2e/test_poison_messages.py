"""A message its consumer cannot process goes to its DLQ after a bounded number of receives, with the reason
recorded and an exception opened, and holds its customer's ERP postings for seconds-to-minutes, not half an
hour. Driven over HTTP on the local stack of the real template (its pollers honour the queues' redrive)."""

import json
import time
import uuid
from pathlib import Path

import pytest
from tests import webhooks

from local import cli, endpoints
from local.stack import HubStack
from tools import iam_audit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RETRY_DELAY = 1  # seconds, doubling per receive: 1, 2, 4 before the ERP posting queue's 4th and last receive


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", sandbox=True,  # the ERP configured, so its adapter gets to NotFound
                    parameter_overrides={"QueueRetryDelaySeconds": str(RETRY_DELAY)}) as running:
        yield running


def _dead_letters(stack, queue: str, count: int) -> list[dict]:
    """Wait for and drain `count` messages of a DLQ, with their attributes."""
    url, sqs, found = stack.physical(queue), stack.client("sqs"), []

    def drained() -> bool:
        found.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                         AttributeNames=["All"]).get("Messages", []))
        return len(found) >= count

    stack.wait_until(drained, timeout=60, interval=0.2)
    for message in found:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _item(stack, pk: str, sk: str) -> dict:
    from erphub.store.tables import from_item

    item = stack.client("dynamodb").get_item(TableName=stack.physical("WorkflowTable"), ConsistentRead=True,
                                             Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
    return from_item(item)


def _attributes(message: dict) -> dict[str, str]:
    return {name: a["StringValue"] for name, a in message.get("MessageAttributes", {}).items()}


def test_an_invoice_the_erp_cannot_take_is_dead_lettered_with_its_reason_after_four_receives(stack):
    # Given an invoice for a billing customer the hub has never activated (the ERP adapter raises NotFound)
    started = time.monotonic()
    receipt = webhooks.post(stack.endpoints["gateway"], "stripe", webhooks.sample("stripe/invoice.paid.json")).json()
    assert receipt["status"] == "accepted"
    # When ERP posting keeps failing it, it is moved to the ERP posting DLQ after the queue's maxReceiveCount
    [message] = _dead_letters(stack, "ErpPostingDLQ", 1)
    held = time.monotonic() - started
    # Then the DLQ message is the original event, with why it failed
    assert json.loads(message["Body"])["detail"]["event_id"] == receipt["event_id"]
    why = _attributes(message)
    assert why["erphub.error_type"] == "NotFound" and "not activated in the hub" in why["erphub.error"]
    assert why["erphub.receive_count"] == "4" and why["erphub.source_queue"].endswith("erp-posting.fifo")
    # And it held its customer's postings for the retry delays (1 + 2 + 4 s here; 15 + 30 + 60 s on AWS),
    # not for 10 receives x 180 s of visibility as before
    assert held < 30, f"{held:.1f} s"
    # And the failure record says what happened on each receive, and the exception is open for an operator
    # (the consumer marks the record once the DLQ has the message: wait for its last field)
    failure = stack.wait_until(lambda: _dead_lettered(stack, why["erphub.source_queue"],
                                                      why["erphub.source_message_id"]), timeout=10, interval=0.1)
    assert failure["error_type"] == "NotFound" and failure["receive_count"] == 4 and failure["attempts"] == 4
    assert failure["dead_letter_queue"].endswith("erp-posting-dlq.fifo") and failure["consumer"] == "erp_posting"
    assert failure["correlation_id"] == json.loads(message["Body"])["detail"]["correlation_id"]
    exception = _item(stack, f"EXC#{failure['exception_id']}", "EXC")
    assert exception["kind"] == "dead_letter" and exception["status"] == "open"
    assert exception["correlation_id"] == failure["correlation_id"] and "NotFound" in exception["reason"]
    assert exception["detail"]["dead_letter_queue"] == failure["dead_letter_queue"]


def test_a_malformed_message_is_dead_lettered_at_once_and_its_group_goes_on(stack):
    # Given a malformed message at the head of a customer's group on the ERP posting FIFO queue, and after it
    # a well-formed posting of the same customer that fails on its own (the customer is unknown)
    sqs, queue, group = stack.client("sqs"), stack.physical("ErpPostingQueue"), f"cus_{uuid.uuid4().hex[:8]}"
    bad = sqs.send_message(QueueUrl=queue, MessageBody="{not json", MessageGroupId=group,
                           MessageDeduplicationId=uuid.uuid4().hex)["MessageId"]
    event = json.loads(webhooks.fresh("stripe", webhooks.sample("stripe/invoice.paid.json"))[0])
    second = sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(_bus_event(event)), MessageGroupId=group,
                              MessageDeduplicationId=uuid.uuid4().hex)["MessageId"]
    # When ERP posting receives them, the malformed one goes to the DLQ on its first receive (retrying the same
    # bytes cannot help), with its reason
    queue_name = queue.rsplit("/", 1)[-1]
    failure = stack.wait_until(lambda: _dead_lettered(stack, queue_name, bad), timeout=20, interval=0.1)
    assert failure["error_type"] == "JSONDecodeError" and failure["receive_count"] == 1
    assert _item(stack, f"EXC#{failure['exception_id']}", "EXC")["kind"] == "dead_letter"
    # Then the next message of the group gets its own first attempt (it was not held behind it, nor charged a
    # receive for it)
    # (moto applies an update's actions one by one, visible to a concurrent read: wait for the last one, ADD)
    first_failure = stack.wait_until(lambda: _failure(stack, queue_name, second).get("attempts") and
                                     _failure(stack, queue_name, second), timeout=20, interval=0.1)
    assert first_failure["receive_count"] == 1 and first_failure["error_type"] == "NotFound"


def test_the_consumers_aws_calls_are_allowed_by_their_template_policies(stack):
    # the failure path calls SQS (GetQueueUrl, GetQueueAttributes, ChangeMessageVisibility, SendMessage to
    # the DLQ) and DynamoDB (the failure record, the exception): all granted in template.yaml
    made = {f: calls for f, calls in stack.aws_calls.items() if f in ("ErpPostingFunction", "ErpSequencerFunction")}
    assert {"ErpPostingFunction", "ErpSequencerFunction"} <= made.keys()
    findings = iam_audit.audit(stack, made)
    assert findings == [], "\n".join(map(str, findings))


def test_erphub_sweep_runs_the_outbox_sweeper_of_the_running_stack(stack, tmp_path, monkeypatch, capsys):
    # Given `erphub up` is running (its endpoints file in the working directory)
    monkeypatch.chdir(tmp_path)
    endpoints.write(stack)
    # When a user runs `erphub sweep`, Then the stack's own sweeper runs now and reports
    assert cli.main(["sweep"]) == 0
    report = capsys.readouterr().out.splitlines()[-1]  # (the in-process stack's own log lines come before)
    assert report.startswith("outbox sweep: found ") and "skipped 0" in report


def _failure(stack, queue_name: str, message_id: str) -> dict:
    try:
        return _item(stack, f"FAIL#{queue_name}", f"MSG#{message_id}")
    except KeyError:
        return {}


def _dead_lettered(stack, queue_name: str, message_id: str) -> dict | None:
    """The failure record once the consumer has marked it dead-lettered (all of its fields written)."""
    failure = _failure(stack, queue_name, message_id)
    return failure if failure.get("dead_letter_message_id") and failure.get("attempts") else None


def _bus_event(vendor_event: dict) -> dict:
    """The bus event the sequencer would put on the FIFO queue for this Stripe event."""
    from datetime import UTC, datetime

    from erphub.sources.inbound import Headers, InboundRequest
    from erphub.sources.stripe import StripeSource

    raw = json.dumps(vendor_event).encode()
    request = InboundRequest(method="POST", url="http://localhost/webhooks/stripe", headers=Headers({}), body=raw,
                             received_at=datetime.now(UTC))
    [parsed] = StripeSource().parse(request)
    envelope = json.loads(StripeSource().normalize(parsed).model_dump_json())
    return {"source": "erphub", "detail-type": envelope["type"], "detail": envelope}
