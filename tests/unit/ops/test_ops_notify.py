"""Notifications to operators: which workflow-table changes are news, what goes to the bus, the topic and the
notification log, and the SLA sweep that marks overdue exceptions once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from erphub import aws
from erphub.operations import notify
from erphub.store.exceptions import ExceptionStore
from erphub.store.tables import to_item
from erphub.store.workflow_state import WorkflowStore


def stream(event_name: str, new: dict, old: dict | None = None) -> dict:
    return {"eventName": event_name, "dynamodb": {"Keys": to_item({"pk": new["pk"], "sk": new["sk"]}),
                                                  "NewImage": to_item(new), "OldImage": to_item(old or {})}}


EXC = {"pk": "EXC#x1", "sk": "EXC", "exception_id": "x1", "kind": "approval", "status": "open",
       "correlation_id": "contract:salesforce:006A", "workflow": "activation", "reason": "over 500000",
       "opened_at": "2026-12-01T08:00:00+00:00"}


@pytest.mark.parametrize(("kind", "expected"), [("approval", notify.OPENED), ("activation_failed",
                         notify.WORKFLOW_FAILED), ("dead_letter", notify.DLQ_RECEIVED)])
def test_a_new_exception_is_news_of_its_kind(kind, expected):
    assert notify.notification_for(stream("INSERT", {**EXC, "kind": kind}))[0] == expected


def test_only_the_first_overdue_mark_and_no_other_change_is_news():
    assert notify.notification_for(stream("MODIFY", {**EXC, "overdue_at": "t"}, EXC))[0] == notify.OVERDUE
    assert notify.notification_for(stream("MODIFY", {**EXC, "overdue_at": "t"}, {**EXC, "overdue_at": "t"})) is None
    assert notify.notification_for(stream("MODIFY", {**EXC, "status": "resolved"}, EXC)) is None
    assert notify.notification_for(stream("INSERT", {**EXC, "pk": "AUDIT#c", "sk": "t#1"})) is None


@pytest.fixture
def wired(tables, hub_settings):
    events, sns, sqs = aws.client("events"), aws.client("sns"), aws.client("sqs")
    events.create_event_bus(Name="hub")
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="ops", EventBusName="hub", EventPattern=json.dumps({"source": [notify.SOURCE]}))
    events.put_targets(Rule="ops", EventBusName="hub", Targets=[{"Id": "q", "Arn": arn}])
    topic = sns.create_topic(Name="operators")["TopicArn"]
    hub_settings(EVENT_BUS_NAME="hub", OPS_TOPIC_ARN=topic)
    return queue


def test_a_notification_reaches_the_bus_and_the_log(wired):
    sent = notify.on_stream_record(stream("INSERT", EXC))
    [message] = aws.client("sqs").receive_message(QueueUrl=wired)["Messages"]
    event = json.loads(message["Body"])
    assert (event["detail-type"], event["source"]) == (notify.OPENED, "erphub.ops")
    assert event["detail"]["owner"] == "deal-desk" and event["detail"]["exception_id"] == "x1"
    assert [n["exception_id"] for n in notify.recent()] == ["x1"] and sent["type"] == notify.OPENED


def test_the_sla_sweep_marks_overdue_once(wired):
    store = WorkflowStore()
    late = store.open_exception("c1", "activation", "erp_outage", "down")
    fresh = store.open_exception("c2", "activation", "erp_outage", "down")
    old = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    aws.client("dynamodb").update_item(TableName="workflows", Key=to_item({"pk": f"EXC#{late}", "sk": "EXC"}),
                                       UpdateExpression="SET opened_at = :o", ExpressionAttributeValues=to_item(
                                           {":o": old}))
    first, second = notify.sweep_overdue(), notify.sweep_overdue()
    assert (first["open"], first["marked_overdue"], first["past_sla"]) == (2, 1, 1)
    assert (second["open"], second["marked_overdue"], second["past_sla"]) == (2, 0, 1)
    assert ExceptionStore().get(late).get("overdue_at") and not ExceptionStore().get(fresh).get("overdue_at")
