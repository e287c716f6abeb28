"""The ERP work queue's consumer (erphub.erp_work, the ERP adapter's SQS side): it runs each message's action and
answers the waiting run with the result or the typed error by name; a duplicate delivery finds its task closed
and is done; a message that cannot be answered fails like any consumer's (recorded, retried, dead-lettered)."""

import json
from types import SimpleNamespace

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from erphub import consuming, erp_work
from erphub.errors import RateLimited, ValidationFailed

pytestmark = pytest.mark.unit

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:erphub-local-erp-work"
DLQ_ARN = QUEUE_ARN + "-dlq"


class FakeAws:
    """Step Functions (answers, with the codes of a closed task or an outage when told) and the SQS calls the
    consumer makes for a failed message."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, dict]] = []
        self.closed: set[str] = set()
        self.down = False
        self.dead_lettered: list[dict] = []

    def _answer(self, kind: str, request: dict) -> dict:
        if self.down:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, kind)
        if request["taskToken"] in self.closed:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}, kind)
        self.answers.append((kind, request))
        self.closed.add(request["taskToken"])
        return {}

    def send_task_success(self, **request):
        return self._answer("success", request)

    def send_task_failure(self, **request):
        return self._answer("failure", request)

    def get_queue_url(self, QueueName, QueueOwnerAWSAccountId):
        return {"QueueUrl": f"https://sqs.local/{QueueOwnerAWSAccountId}/{QueueName}"}

    def get_queue_attributes(self, QueueUrl, AttributeNames):
        return {"Attributes": {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})}}

    def change_message_visibility_batch(self, QueueUrl, Entries):
        return {}

    def send_message(self, **request):
        self.dead_lettered.append(request)
        return {"MessageId": "dlq-1"}


class Nothing:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def __getattr__(self, name):
        return lambda *args, **kwargs: "exc-1"


@pytest.fixture
def fake_aws(monkeypatch, hub_settings):
    fake = FakeAws()
    hub_settings(RETRY_DELAY_SECONDS="15")
    monkeypatch.setattr(erp_work.aws, "client", lambda service: fake)
    monkeypatch.setattr(consuming, "FailureStore", Nothing)
    monkeypatch.setattr(consuming, "WorkflowStore", Nothing)
    return fake


def _body(token: str = "token-1", action: str = "erp.book", **extra) -> str:  # noqa: S107 - a task token
    return json.dumps({"action": action, "workflow": "activation", "task_token": token,
                       "state": {"correlation_id": "contract:salesforce:006A"}, **extra})


def _record(body: str, message_id: str = "m1") -> dict:
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body, "eventSource": "aws:sqs",
            "eventSourceARN": QUEUE_ARN, "attributes": {"ApproximateReceiveCount": "1"}}


def _consume(records: list[dict], run_action) -> dict:
    consumer = consuming.Consumer("erp_work", lambda r: erp_work.answer(r, run_action),
                                  BatchProcessor(event_type=EventType.SQS))
    return consumer({"Records": records}, SimpleNamespace(get_remaining_time_in_millis=lambda: 60_000))


def test_the_actions_result_answers_the_run(fake_aws):
    # Given a work message for erp.book, whose action books and answers its orders
    ran = []

    def book(system, work):
        ran.append((system, work))
        return {"orders": {"LE-US": "SO-1"}}

    # When the consumer takes it
    outcome = erp_work.answer(SQSRecord(_record(_body())), book)
    # Then the ERP adapter's action ran with the call's payload (not the token), and the run got its result
    assert outcome == "succeeded"
    assert ran == [("erp", {"action": "erp.book", "workflow": "activation",
                            "state": {"correlation_id": "contract:salesforce:006A"}})]
    assert fake_aws.answers == [("success", {"taskToken": "token-1", "output": '{"orders": {"LE-US": "SO-1"}}'})]


@pytest.mark.parametrize("error", [RateLimited("NetSuite 429", retry_after=2, system="erp"),
                                   ValidationFailed("subsidiary missing", system="erp")])
def test_a_typed_error_answers_the_run_by_its_class_name_as_a_lambda_error_would(fake_aws, error):
    def failing(system, work):
        raise error

    assert erp_work.answer(SQSRecord(_record(_body())), failing) == "failed"
    [(kind, request)] = fake_aws.answers
    # the name the policy's Retry/Catch match, and a Lambda-shaped cause that outcome.describe_error reads
    assert (kind, request["taskToken"], request["error"]) == ("failure", "token-1", type(error).__name__)
    assert json.loads(request["cause"]) == {"errorMessage": str(error), "errorType": type(error).__name__}


def test_an_unknown_action_fails_the_run_as_permanent(fake_aws):
    # the real adapter dispatch: the ERP adapter serves no such action
    assert erp_work.answer(SQSRecord(_record(_body(action="erp.teleport")))) == "failed"
    [(kind, request)] = fake_aws.answers
    assert (kind, request["error"]) == ("failure", "Permanent")
    assert "no action 'erp.teleport'" in json.loads(request["cause"])["errorMessage"]


def test_a_duplicate_delivery_finds_its_task_closed_and_is_done(fake_aws):
    # Given the same work message delivered twice (SQS is at-least-once)
    runs = []

    def book(system, work):
        runs.append(work["action"])  # the ERP write is by external id: a second run upserts the same record
        return {"orders": {"LE-US": "SO-1"}}

    # When both deliveries are consumed
    response = _consume([_record(_body(), "m1"), _record(_body(), "m2")], book)
    # Then the run was answered once, the second answer found its task closed, and neither message failed
    assert response == {"batchItemFailures": []}
    assert [kind for kind, _ in fake_aws.answers] == ["success"]
    assert runs == ["erp.book", "erp.book"] and fake_aws.dead_lettered == []


def test_an_answer_step_functions_did_not_take_is_retried(fake_aws):
    fake_aws.down = True
    response = _consume([_record(_body())], lambda system, work: {"ok": True})
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_a_message_without_a_task_token_is_dead_lettered_unrun(fake_aws):
    ran = []
    body = json.dumps({"action": "erp.book", "workflow": "activation", "state": {}})
    response = _consume([_record(body)], lambda system, work: ran.append(work))
    assert response == {"batchItemFailures": []} and ran == []  # moved to the DLQ by the consumer, at once
    assert [m["MessageBody"] for m in fake_aws.dead_lettered] == [body]
    assert fake_aws.dead_lettered[0]["MessageAttributes"]["erphub.error_type"]["StringValue"] == "UnanswerableWork"


def test_the_adapter_handler_routes_queue_batches_to_the_consumer_and_calls_to_the_action():
    seen = []
    handler = erp_work.handler(lambda event, context: seen.append(("direct", event)) or {"direct": True},
                               lambda event, context: seen.append(("work", event)) or {"batchItemFailures": []})
    context = SimpleNamespace(function_name="erp", memory_limit_in_mb=512, invoked_function_arn="arn",
                              aws_request_id="r1")
    assert handler({"action": "erp.book", "state": {}}, context) == {"direct": True}
    assert handler({"Records": []}, context) == {"batchItemFailures": []}
    assert [kind for kind, _ in seen] == ["direct", "work"]
