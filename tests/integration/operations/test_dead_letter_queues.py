"""Every DLQ of the stack with its depth, oldest age and source; each message with why it failed; redrive one or
all back to the source without losing or duplicating a message; purge only when confirmed."""

from __future__ import annotations

import json
import uuid

import pytest

from erphub.errors import NotFound, Permanent, Transient, ValidationFailed

pytestmark = pytest.mark.integration
ACTOR = "ops@example.com"


def queue_name(stack, logical_id: str) -> str:
    return stack.physical(logical_id).rsplit("/", 1)[-1]


@pytest.fixture
def held(stack):
    """Hold the consumers of the source queues a test redrives to, so it sees what arrived."""
    queues = ("ActivationQueue", "AmendmentQueue", "ErpPostingQueue")
    for queue in queues:
        stack.pause_consumers(queue)
    yield
    for queue in queues:
        stack.receive_all(queue)
        stack.pause_consumers(queue, paused=False)


def send(stack, logical_id: str, body: str, **extra) -> str:
    return stack.client("sqs").send_message(QueueUrl=stack.physical(logical_id), MessageBody=body,
                                            **extra)["MessageId"]


def text(value: str) -> dict:
    return {"DataType": "String", "StringValue": value}


def test_every_dead_letter_queue_of_the_stack_is_listed_with_its_source(operator):
    from erphub.operations import dlqs

    listed = {q.name: q for q in dlqs.dead_letter_queues()}
    expected = {"ActivationDLQ": "ActivationQueue", "AmendmentDLQ": "AmendmentQueue", "RenewalDLQ": "RenewalQueue",
                "CancellationDLQ": "CancellationQueue", "RenewalRiskDLQ": "RenewalRiskQueue",
                "RenewalRiskBillingDLQ": "RenewalRiskBillingQueue", "RenewalRiskErpDLQ": "RenewalRiskErpQueue",
                "ErpPostingIntakeDLQ": "ErpPostingIntakeQueue", "ErpPostingDLQ": "ErpPostingQueue",
                "UsageDLQ": "UsageQueue", "ErpWorkDLQ": "ErpWorkQueue"}
    for dlq, source in expected.items():
        assert listed[queue_name(operator, dlq)].source_queues == [queue_name(operator, source)]
    # the DLQs of the bus rules' deliveries and of the stream consumers' failures have no source queue
    unsourced = ("RuleDeliveryDLQ", "PublisherFailureDLQ", "OpsNotifierFailureDLQ", "KpiProjectorFailureDLQ")
    assert all(listed[queue_name(operator, dlq)].source_queues == [] for dlq in unsourced)
    assert len(listed) == len(expected) + len(unsourced) and listed[queue_name(operator, "ErpPostingDLQ")].fifo


def test_a_message_the_consumer_dead_lettered_shows_why_and_is_redriven_once(operator, held):
    from erphub.operations import dlqs

    # Given a message its consumer cannot read (the workflow starter dead-letters it at once, with its reason)
    operator.pause_consumers("ActivationQueue", paused=False)
    poison = send(operator, "ActivationQueue", "{not json")
    dlq = queue_name(operator, "ActivationDLQ")
    letter = operator.wait_until(lambda: next((m for m in dlqs.messages(dlq).messages
                                               if m.source_message_id == poison and m.exception_id), None), timeout=20)
    operator.pause_consumers("ActivationQueue")
    # Then the operator sees why it failed, who failed it, and its exception
    assert letter.reason.recorded_by == "consumer" and letter.reason.error_type == "JSONDecodeError"
    assert letter.reason.consumer == "workflow_start" and letter.body == "{not json"
    summary = next(q for q in dlqs.dead_letter_queues() if q.name == dlq)
    assert summary.depth >= 1 and summary.oldest_age_seconds is not None
    # When the operator redrives that one message
    result = dlqs.redrive(dlq, actor=ACTOR, message_id=letter.message_id)
    # Then it is on its source queue once, no longer in the DLQ, and its exception is resolved by the redrive
    assert result.moved == 1 and result.method == "receive_send_delete"
    bodies = [m["Body"] for m in _drain(operator, "ActivationQueue")]
    assert bodies.count("{not json") == 1
    assert letter.message_id not in [m.message_id for m in dlqs.messages(dlq).messages]
    from erphub.store.workflow_state import WorkflowStore

    closed = WorkflowStore().exception(letter.exception_id)
    assert closed["status"] == "closed" and closed["resolution"] == f"redriven by {ACTOR}"
    # And redriving it again finds nothing to move
    with pytest.raises(NotFound):
        dlqs.redrive(dlq, actor=ACTOR, message_id=letter.message_id)


def test_a_message_sqs_moved_itself_is_explained_by_its_failure_record(operator, held):
    from erphub.operations import dlqs
    from erphub.store.failures import FailureStore, MessageFailure

    # Given a message that failed every receive and whose consumer recorded why, then SQS's redrive moved it
    sqs, url = operator.client("sqs"), operator.physical("AmendmentQueue")
    message_id = send(operator, "AmendmentQueue", json.dumps({"detail": {"correlation_id": "contract:x:1"}}))
    FailureStore().record(MessageFailure(queue=queue_name(operator, "AmendmentQueue"), message_id=message_id,
                                         error_type="Transient", error="stepfunctions unavailable", receive_count=5,
                                         consumer="workflow_start", correlation_id="contract:x:1"))
    for _ in range(6):  # maxReceiveCount 5: the next receive moves it
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    # Then the DLQ shows it with the recorded reason
    dlq = queue_name(operator, "AmendmentDLQ")
    letter = operator.wait_until(lambda: next((m for m in dlqs.messages(dlq).messages
                                               if m.message_id == message_id), None), timeout=10)
    assert letter.reason.recorded_by == "failure_record" and letter.reason.error == "stepfunctions unavailable"
    assert letter.correlation_id == "contract:x:1" and letter.source_queue == queue_name(operator, "AmendmentQueue")


def test_redriving_a_whole_dlq_moves_every_message_once(operator, held):
    from erphub.operations import dlqs

    dlq = queue_name(operator, "AmendmentDLQ")
    dlqs.redrive(dlq, actor=ACTOR)  # what earlier tests left
    _drain(operator, "AmendmentQueue")
    bodies = {f"amendment {n} {uuid.uuid4().hex[:6]}" for n in range(12)}
    for body in bodies:
        send(operator, "AmendmentDLQ", body)
    # moto has no StartMessageMoveTask (AWS does): the message-by-message path moves them
    result = dlqs.redrive(dlq, actor=ACTOR)
    assert result.method == "receive_send_delete" and result.moved == 12 and result.left == 0
    arrived = [m["Body"] for m in _drain(operator, "AmendmentQueue")]
    assert sorted(arrived) == sorted(bodies)


def test_an_interrupted_fifo_redrive_neither_loses_nor_duplicates_the_message(operator, held, monkeypatch):
    from erphub.operations import dlqs

    # Given a dead-lettered ERP posting (FIFO) that names its source queue
    source = queue_name(operator, "ErpPostingQueue")
    send(operator, "ErpPostingDLQ", '{"posting": 1}', MessageGroupId="cus_1", MessageDeduplicationId=uuid.uuid4().hex,
         MessageAttributes={"erphub.source_queue": text(source), "erphub.error_type": text("Transient"),
                            "erphub.error": text("ERP unavailable")})
    dlq = queue_name(operator, "ErpPostingDLQ")
    monkeypatch.setattr(dlqs, "REDRIVE_VISIBILITY_SECONDS", 1)
    # When the redrive is interrupted after sending the message back and before deleting it from the DLQ
    real_delete = dlqs._delete

    def interrupted(url, message):
        monkeypatch.setattr(dlqs, "_delete", real_delete)
        raise Transient("interrupted", system="sqs")

    monkeypatch.setattr(dlqs, "_delete", interrupted)
    with pytest.raises(Transient):
        dlqs.redrive(dlq, actor=ACTOR)
    # and the operator redrives again once the message is visible in the DLQ again
    letter = operator.wait_until(lambda: dlqs.messages(dlq).messages, timeout=10)
    assert len(letter) == 1
    dlqs.redrive(dlq, actor=ACTOR)
    # Then the source queue holds it once (the deduplication id is its DLQ message id), in its customer's group
    arrived = _drain(operator, "ErpPostingQueue")
    assert [m["Body"] for m in arrived] == ['{"posting": 1}']
    assert arrived[0]["Attributes"]["MessageGroupId"] == "cus_1"
    assert arrived[0]["MessageAttributes"]["erphub.redriven_by"]["StringValue"] == ACTOR
    assert dlqs.messages(dlq).messages == []


def test_an_eventbridge_delivery_failure_is_redriven_to_the_rule_target_it_names(operator, held):
    from erphub.operations import dlqs

    # Given an event EventBridge could not deliver to the activation queue (its DLQ message as AWS documents it)
    target = operator.physical("ActivationQueue", "Arn")
    send(operator, "RuleDeliveryDLQ", '{"detail-type": "crm.opportunity.closed_won"}', MessageAttributes={
        "RULE_ARN": text("arn:aws:events:us-east-1:123456789012:rule/erphub-local/ActivationRule"),
        "TARGET_ARN": text(target), "ERROR_CODE": text("SQS.AccessDenied"),
        "ERROR_MESSAGE": text("not authorized to send"),
        "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": "185"}})
    dlq = queue_name(operator, "RuleDeliveryDLQ")
    [letter] = dlqs.messages(dlq).messages
    assert letter.reason.recorded_by == "eventbridge" and letter.reason.error_type == "SQS.AccessDenied"
    assert letter.reason.attempts == 185 and letter.source_queue == queue_name(operator, "ActivationQueue")
    # When redriven, it goes to the rule's target queue, without EventBridge's failure attributes
    dlqs.redrive(dlq, actor=ACTOR, message_id=letter.message_id)
    [arrived] = _drain(operator, "ActivationQueue")
    assert "ERROR_CODE" not in arrived.get("MessageAttributes", {})


def test_a_publisher_failure_record_is_explained_and_sent_to_the_sweep(operator):
    from erphub.operations import dlqs

    publisher = "arn:aws:lambda:us-east-1:123456789012:function:erphub-local-publisher"
    record = {"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 21,
                                 "functionArn": publisher},
              "responseContext": {"functionError": "Unhandled"}, "DDBStreamBatchInfo": {"batchSize": 3}}
    send(operator, "PublisherFailureDLQ", json.dumps(record))
    dlq = queue_name(operator, "PublisherFailureDLQ")
    [letter] = dlqs.messages(dlq).messages
    assert letter.reason.recorded_by == "lambda_destination" and "RetryAttemptsExhausted" in letter.reason.error
    with pytest.raises(Permanent, match="outbox sweep"):
        dlqs.redrive(dlq, actor=ACTOR, message_id=letter.message_id)
    assert [m.message_id for m in dlqs.messages(dlq).messages] == [letter.message_id]  # nothing lost


def dead_letter_exception(dlq: str) -> str:
    """The exception a consumer opens when it dead-letters a message to `dlq`."""
    from erphub.store.workflow_state import WorkflowStore

    return WorkflowStore().open_exception(f"test:{uuid.uuid4().hex}", "workflow_start", "dead_letter", "Transient: x",
                                          detail={"dead_letter_queue": dlq}, seed=uuid.uuid4().hex)


def test_purging_needs_the_queue_name_as_confirmation(operator):
    from erphub.operations import dlqs
    from erphub.store.workflow_state import WorkflowStore

    dlq = queue_name(operator, "RenewalDLQ")
    send(operator, "RenewalDLQ", "one")
    exception_id = dead_letter_exception(dlq)
    with pytest.raises(ValidationFailed):
        dlqs.purge(dlq, confirm="yes", actor=ACTOR)
    assert len(dlqs.messages(dlq).messages) == 1
    purged = dlqs.purge(dlq, confirm=dlq, actor=ACTOR)
    assert purged.purged == 1 and purged.closed_exceptions == 1
    assert dlqs.messages(dlq).messages == []
    assert WorkflowStore().exception(exception_id)["resolution"] == f"purged by {ACTOR}"
    with pytest.raises(NotFound):
        dlqs.purge("erphub-local-activation", confirm="erphub-local-activation", actor=ACTOR)  # not a DLQ


def _drain(stack, logical_id: str) -> list[dict]:
    sqs, url, found = stack.client("sqs"), stack.physical(logical_id), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                       MessageAttributeNames=["All"]).get("Messages", []):
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_where_sqs_moves_the_messages_itself_the_hub_starts_the_task_and_resolves_their_exceptions(operator,
                                                                                                  monkeypatch):
    """AWS has StartMessageMoveTask (moto has not): a stand-in answers it as the SQS API Reference documents."""
    from erphub import aws
    from erphub.operations import dlqs
    from erphub.store.workflow_state import WorkflowStore

    real_client, started = aws.client, []

    class SqsWithMoveTask:
        def __init__(self) -> None:
            self.real = real_client("sqs")

        def start_message_move_task(self, **request):
            started.append(request)
            return {"TaskHandle": "eyJ0YXNrSWQiOiJ0ZXN0In0="}

        def __getattr__(self, name):
            return getattr(self.real, name)

    monkeypatch.setattr(aws, "client", lambda service: SqsWithMoveTask() if service == "sqs" else real_client(service))
    dlq = queue_name(operator, "CancellationDLQ")
    exception_id = dead_letter_exception(dlq)
    result = dlqs.redrive(dlq, actor=ACTOR)
    # the task moves the DLQ to its source queue, named explicitly (consumer-sent messages have no SQS origin)
    assert result.method == "message_move_task" and result.task_handle and result.closed_exceptions == 1
    assert started == [{"SourceArn": operator.physical("CancellationDLQ", "Arn"),
                        "DestinationArn": operator.physical("CancellationQueue", "Arn")}]
    assert WorkflowStore().exception(exception_id)["status"] == "closed"
