"""Workflow completion SLAs: a run open past its workflow's SLA is a breach handled once - an event on the bus,
the metric workflow_sla_breaches {workflow}, an exception for its owner - and the sweep publishes the open-run
and exception gauges the alarms read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from erphub import aws
from erphub.operations import kinds, notify, sla
from erphub.store.run_status import run_key
from erphub.store.tables import to_item
from erphub.store.workflow_state import WorkflowStore


@pytest.fixture
def bus(tables, hub_settings):
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name="hub")
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="ops", EventBusName="hub", EventPattern=json.dumps({"source": [notify.SOURCE]}))
    events.put_targets(Rule="ops", EventBusName="hub", Targets=[{"Id": "q", "Arn": arn}])
    topic = aws.client("sns").create_topic(Name="operators")["TopicArn"]  # the subject names the breach
    hub_settings(EVENT_BUS_NAME="hub", OPS_TOPIC_ARN=topic)
    return queue


def run(correlation_id: str, workflow: str, status: str, hours_ago: float) -> None:
    WorkflowStore().record_status(correlation_id, workflow, status, version=1, step="erp.create_sales_order")
    started = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    aws.client("dynamodb").update_item(TableName="workflows", Key=to_item({"pk": f"RUN#{correlation_id}",
                                       "sk": run_key(workflow, 1)}), UpdateExpression="SET started_at = :s",
                                       ExpressionAttributeValues=to_item({":s": started}))


def emitted(capsys) -> list[dict]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    return [{"name": line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], **{
        k: v for k, v in line.items() if k in ("workflow", "kind")}, "value": line[
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]][0]} for line in lines]


def test_every_workflow_has_a_completion_sla_and_activation_is_4_hours():
    assert set(sla.workflow_slas()) == {"activation", "amendment", "renewal", "cancellation"}
    assert sla.workflow_slas()["activation"] == 4 * 3600
    assert sla.BREACH_KIND in kinds.known() and kinds.of(sla.BREACH_KIND).owner


def test_a_breach_is_an_event_a_metric_and_an_exception_once(bus, capsys):
    run("late", "activation", "running", hours_ago=5)
    run("waiting-late", "renewal", "waiting", hours_ago=25)
    run("fresh", "activation", "running", hours_ago=1)
    run("done", "activation", "completed", hours_ago=9)
    capsys.readouterr()
    first = notify.sweep_overdue()
    metrics = emitted(capsys)
    assert notify.sweep_overdue()["workflows_breached"] == 0  # handled once
    assert first["workflows_breached"] == 2

    opened = WorkflowStore().exceptions()
    assert sorted((e["correlation_id"], e["kind"]) for e in opened) == [
        ("late", sla.BREACH_KIND), ("waiting-late", sla.BREACH_KIND)]
    messages = aws.client("sqs").receive_message(QueueUrl=bus, MaxNumberOfMessages=10)["Messages"]
    events = [json.loads(m["Body"]) for m in messages]
    assert sorted(e["detail"]["correlation_id"] for e in events if e["detail-type"] == sla.SLA_BREACHED) == [
        "late", "waiting-late"]
    assert sorted(m["workflow"] for m in metrics if m["name"] == "workflow_sla_breaches") == ["activation", "renewal"]
    open_runs = {m["workflow"]: m["value"] for m in metrics if m["name"] == "workflow_runs_open"}
    assert open_runs == {"activation": 2, "amendment": 0, "renewal": 1, "cancellation": 0}
    oldest = {m["workflow"]: m["value"] for m in metrics if m["name"] == "workflow_run_oldest_age"}
    assert 5 * 3600 - 60 < oldest["activation"] < 5 * 3600 + 60 and oldest["amendment"] == 0


def test_the_sweep_counts_open_exceptions_per_kind_and_past_their_sla(bus, capsys):
    store = WorkflowStore()
    store.open_exception("c1", "renewal", "billing_alignment", "out of step")
    store.open_exception("c2", "activation", "identity_conflict", "two accounts")
    capsys.readouterr()
    notify.sweep_overdue()
    metrics = emitted(capsys)
    by_kind = {m["kind"]: m["value"] for m in metrics if m["name"] == "exceptions_open"}
    assert by_kind["billing_alignment"] == 1 and by_kind["identity_conflict"] == 1 and by_kind["approval"] == 0
    assert [m["value"] for m in metrics if m["name"] == "exceptions_past_sla"] == [0]
