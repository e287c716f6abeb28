"""IAM is not enforced locally: the audit checks that every AWS call the functions make while vendors drive the
real template is one their template policies allow, so it will not be denied on AWS."""

from pathlib import Path

import pytest
from tests import webhooks

from local.stack import HubStack
from tools import iam_audit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_the_functions_call_only_what_their_template_policies_allow():
    with HubStack(ROOT / "template.yaml", sandbox=True) as stack:
        gateway = stack.endpoints["gateway"]
        # Given the real template's stack, driven as the vendors drive it: a paid invoice and a closed-won deal
        assert webhooks.post(gateway, "stripe", webhooks.sample("stripe/invoice.paid.json")).status_code == 202
        won = webhooks.post(gateway, "salesforce", webhooks.sample("salesforce/opportunity_closed_won.xml"))
        assert won.status_code == 200
        # When the activation runs through every adapter, the invoice reaches the ERP and the sweeper runs
        sfn, machine = stack.client("stepfunctions"), stack.physical("CustomerActivationStateMachine")

        def activation_finished() -> list:
            executions = sfn.list_executions(stateMachineArn=machine)["executions"]
            return [e for e in executions if e["status"] != "RUNNING"]

        [activation] = stack.wait_until(activation_finished, timeout=30, interval=0.1)
        assert activation["status"] == "SUCCEEDED"
        stack.wait_until(lambda: "ErpPostingFunction" in stack.aws_calls, timeout=10)
        stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})
        # Then the calls of every function on those paths were recorded
        made = stack.aws_calls
        assert {"WebhookIngestFunction", "PublisherFunction", "WorkflowStarterFunction", "HubStepsFunction",
                "CrmAdapterFunction", "BillingAdapterFunction", "SuccessAdapterFunction", "ErpAdapterFunction",
                "ErpSequencerFunction", "ErpPostingFunction", "OutboxSweeperFunction"} <= made.keys()
        # And the template's policies allow every one of them
        findings = iam_audit.audit(stack)
        assert findings == [], "\n".join(map(str, findings))
