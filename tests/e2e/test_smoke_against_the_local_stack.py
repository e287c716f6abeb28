"""`erphub smoke` against the local stack of the real template: a CloudFormation stack in its embedded AWS carries the
outputs a deployed stack has, pointing at the local gateway, inbox and secrets; smoke really signs, sends and
reads back. No AWS account needed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.stack import HubStack
from tools import smoke

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "erphub-smoke"
VENDORS = {"CrmVendor": "salesforce", "BillingVendor": "stripe", "SuccessVendor": "gainsight", "ErpVendor": "netsuite"}


@pytest.fixture(scope="module")
def local_stack():
    with HubStack(ROOT / "template.yaml", sandbox=False) as running:
        yield running


@pytest.fixture(scope="module")
def deployed(local_stack):
    """A CloudFormation stack as `sam deploy` leaves it: parameters and outputs (its one resource is a stand-in)."""
    outputs = {
        "WebhookUrl": f"{local_stack.endpoints['gateway']}/webhooks",
        "InboxTableName": local_stack.physical("InboxTable"),
        "EventBusName": local_stack.physical("EventBus"),
        "WebhookSecretPrefix": "erphub/local/webhooks/",
        "ConnectorSecretPrefix": "erphub/local/connectors/",
    }
    parameters = {**VENDORS, "CrmBaseUrl": "", "BillingBaseUrl": "https://api.stripe.com", "SuccessBaseUrl": "",
                  "ErpBaseUrl": "https://1234567.suitetalk.api.netsuite.com"}
    template = {
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {"StandIn": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "erphub-smoke-stand-in"}}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    local_stack.client("cloudformation").create_stack(
        StackName=STACK_NAME, TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    return local_stack


def _inbox(stack) -> dict[str, dict]:
    items = stack.client("dynamodb").scan(TableName=stack.physical("InboxTable"), ConsistentRead=True)["Items"]
    return {item["pk"]["S"]: item for item in items}


def test_smoke_sends_one_signed_test_webhook_per_source_and_finds_each_stored(deployed):
    lines: list[str] = []
    # When smoke runs against the stack
    code = smoke.run(deployed.client, STACK_NAME, out=lines.append)
    # Then every source's test webhook passed verification and was stored as ignored
    assert code == 0, "\n".join(lines)
    for source in smoke.SOURCES:
        assert any(line.split()[:2] == [source, "ok"] for line in lines), "\n".join(lines)
    smoke_items = [item for item in _inbox(deployed).values() if "smoke" in item["vendor_type"]["S"].lower()]
    assert sorted(item["source"]["S"] for item in smoke_items) == sorted(smoke.SOURCES)
    # And nothing of them goes anywhere: ignored, never published, no business effect
    for item in smoke_items:
        assert item["status"]["S"] == "ignored" and "event" not in item and "unpublished" not in item
    # And it says what is still to configure
    text = "\n".join(lines)
    assert "CrmBaseUrl is empty" in text and "SuccessBaseUrl is empty" in text and "ErpBaseUrl" not in text
    assert "erphub/local/connectors/stripe still holds {}" in text
    assert "0 accepted event(s) waiting" in text


def test_the_cli_runs_smoke_with_the_callers_aws_configuration(deployed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": deployed.aws.url,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    result = subprocess.run([sys.executable, "-m", "local.cli", "smoke", "--stack", STACK_NAME, "--region",
                             "us-east-1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" ok ") == len(smoke.SOURCES)


def test_a_missing_stack_is_refused_clearly(deployed):
    with pytest.raises(smoke.SmokeRefused, match="stack erphub-nope not found"):
        smoke.run(deployed.client, "erphub-nope", out=lambda _: None)


def test_a_source_that_cannot_verify_yet_fails_the_smoke_test(deployed):
    # Given the Salesforce secret allows no organization yet (as a fresh deploy leaves it)
    secrets = deployed.client("secretsmanager")
    secrets.put_secret_value(SecretId="erphub/local/webhooks/salesforce",
                             SecretString=json.dumps({"current": "token", "previous": "", "organization_ids": ""}))
    lines: list[str] = []
    # Then smoke says what to set, and fails
    assert smoke.run(deployed.client, STACK_NAME, out=lines.append) == 1
    assert any(line.split()[:2] == ["salesforce", "FAIL"] and "organization_ids" in line for line in lines)
