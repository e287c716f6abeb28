"""The four workflows run under one role, stated once: it invokes exactly the five adapters (and their
versions), and nothing else is granted on a named resource."""

from pathlib import Path

import pytest

from local.cfn_yaml import load_template

pytestmark = pytest.mark.unit
RESOURCES = load_template(Path(__file__).resolve().parents[3] / "template.yaml")["Resources"]
ADAPTERS = {"HubStepsFunction", "CrmAdapterFunction", "BillingAdapterFunction", "SuccessAdapterFunction",
            "ErpAdapterFunction"}


def state_machines() -> dict:
    return {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::StateMachine"}


def test_every_state_machine_uses_the_one_workflow_role_and_no_policies_of_its_own():
    assert len(state_machines()) == 4
    for logical_id, machine in state_machines().items():
        props = machine["Properties"]
        assert props["Role"] == {"Fn::GetAtt": ["WorkflowRole", "Arn"]}, logical_id
        assert "Policies" not in props, logical_id


def test_the_workflow_role_invokes_exactly_the_adapters_the_state_machines_substitute():
    role = RESOURCES["WorkflowRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    [invoke] = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]
                if s["Action"] == "lambda:InvokeFunction"]
    granted = {r["Fn::GetAtt"][0] for r in invoke["Resource"] if "Fn::GetAtt" in r}
    versions = {r["Fn::Sub"].split(".")[0].lstrip("${") for r in invoke["Resource"] if "Fn::Sub" in r}
    assert granted == versions == ADAPTERS
    for machine in state_machines().values():
        substitutions = machine["Properties"]["DefinitionSubstitutions"].values()
        substituted = {v["Fn::GetAtt"][0] for v in substitutions if "Fn::GetAtt" in v}
        assert substituted <= granted
        # and the one queue they send to: the ERP work queue, granted sqs:SendMessage on it alone
        assert [v["Ref"] for v in substitutions if "Ref" in v] == ["ErpWorkQueue"]


def test_the_workflow_role_sends_only_to_the_erp_work_queue():
    role = RESOURCES["WorkflowRole"]["Properties"]
    sends = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] if "sqs:SendMessage" in s["Action"]]
    assert sends == [{"Effect": "Allow", "Action": "sqs:SendMessage",
                      "Resource": {"Fn::GetAtt": ["ErpWorkQueue", "Arn"]}}]


def test_only_log_delivery_and_tracing_are_granted_on_every_resource():
    role = RESOURCES["WorkflowRole"]["Properties"]
    wildcard = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] if s["Resource"] == "*"]
    actions = {a for s in wildcard for a in s["Action"]}
    assert actions and all(a.startswith(("logs:", "xray:")) for a in actions)
    assert not any(a.endswith("*") for a in actions)
