"""Workflow completion SLAs on the real template's stack: the notifier's 5-minute schedule finds an activation
open past its 4 h SLA, and with the IAM the template gives it, opens one exception for its owner, sends
hub.workflow.sla_breached (kept in the notification log) and does it once."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.stack import HubStack
from tools import iam_audit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_an_activation_past_its_sla_is_breached_once_with_the_templates_iam():
    with HubStack(ROOT / "template.yaml", sandbox=True) as stack:
        ddb, table = stack.client("dynamodb"), stack.physical("WorkflowTable")
        # Given an activation that started 5 hours ago and still waits on its ERP step
        started = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
        ddb.put_item(TableName=table, Item={
            "pk": {"S": "RUN#contract:salesforce:006SLA"}, "sk": {"S": "STATUS#activation#1"},
            "workflow": {"S": "activation"},
            "status": {"S": "waiting"}, "step": {"S": "erp.create_sales_order"}, "started_at": {"S": started},
            "updated_at": {"S": started}})
        # When the notifier's schedule fires twice
        first = stack.invoke("OpsNotifierFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
        second = stack.invoke("OpsNotifierFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
        # Then the breach was handled once: one exception for its owner, and the event in the notification log
        assert (first["workflows_breached"], second["workflows_breached"]) == (1, 0)
        items = ddb.scan(TableName=table, FilterExpression="sk = :e", ExpressionAttributeValues={
            ":e": {"S": "EXC"}})["Items"]
        assert [(i["kind"]["S"], i["correlation_id"]["S"]) for i in items] == [
            ("workflow_sla_breached", "contract:salesforce:006SLA")]
        notes = ddb.scan(TableName=table, FilterExpression="begins_with(pk, :n)", ExpressionAttributeValues={
            ":n": {"S": "NOTIFY#"}})["Items"]
        assert "hub.workflow.sla_breached" in {n["type"]["S"] for n in notes}
        # And every AWS call the notifier made is one its template policy allows
        calls = {f: c for f, c in stack.aws_calls.items() if f == "OpsNotifierFunction"}
        assert calls and iam_audit.audit(stack, calls) == []
