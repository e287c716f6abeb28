"""The real statemachines/*.asl.json: valid, every Task retried on transient errors and caught into a named
state, every state reachable, every action served by the adapter the Task calls."""

import importlib
import json
import re
from pathlib import Path

import pytest

from erphub.adapters import SYSTEMS
from erphub.workflows.actions import REGISTRY
from local.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted((ROOT / "statemachines").glob("*.asl.json"))
ADAPTER_BY_ARN = {"${HubStepsArn}": "hub_steps", "${CrmAdapterArn}": "crm", "${BillingAdapterArn}": "billing",
                  "${SuccessAdapterArn}": "success", "${ErpAdapterArn}": "erp"}
for _prefixes, modules in SYSTEMS.values():
    for module in modules:
        importlib.import_module(f"erphub.workflows.actions.{module}")


def scopes(definition):
    """(StartAt, States) of the machine and of every Parallel branch."""
    yield definition["StartAt"], definition["States"]
    for state in definition["States"].values():
        for branch in state.get("Branches", []):
            yield from scopes(branch)


def tasks(definition):
    for _, states in scopes(definition):
        yield from ((name, s) for name, s in states.items() if s["Type"] == "Task")


def targets(state):
    found = [state.get("Next"), state.get("Default")]
    found += [c.get("Next") for c in state.get("Choices", [])] + [c["Next"] for c in state.get("Catch", [])]
    return [t for t in found if t]


def load(path):
    return json.loads(path.read_text())


def test_there_is_one_file_per_workflow():
    assert [f.name for f in FILES] == ["cancellation.asl.json", "customer_activation.asl.json", "renewal.asl.json",
                                       "subscription_amendment.asl.json"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_task_retries_transient_errors_with_backoff_and_jitter(path):
    for name, state in tasks(load(path)):
        retry = next((r for r in state.get("Retry", []) if {"Transient", "RateLimited"} <= set(r["ErrorEquals"])),
                     None)
        assert retry, f"{name} has no Retry on Transient/RateLimited"
        assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 2 and retry["JitterStrategy"] == "FULL", name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_task_is_caught_keeping_its_input(path):
    for name, state in tasks(load(path)):
        catches = state.get("Catch", [])
        assert catches and catches[-1]["ErrorEquals"] == ["States.ALL"], f"{name} has no catch-all"
        assert all(c["ResultPath"] == "$.error" for c in catches), name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_state_is_reachable_and_every_target_exists(path):
    for start, states in scopes(load(path)):
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            assert name in states, f"{path.name}: {name} is a target but not a state"
            seen.add(name)
            todo += targets(states[name])
        assert seen == set(states), f"{path.name}: unreachable {set(states) - seen}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_action_is_served_by_the_adapter_the_task_calls(path):
    for name, state in tasks(load(path)):
        params = state["Parameters"]
        if "MessageBody" in params:  # queued on the ERP work queue, whose consumer is the ERP adapter
            arn, payload = "${ErpAdapterArn}", params["MessageBody"]
        elif "Payload" in params:
            arn, payload = params["FunctionName"], params["Payload"]
        else:
            arn, payload = state["Resource"], params
        system = ADAPTER_BY_ARN[arn]
        assert payload["action"] in REGISTRY, f"{name}: {payload['action']} is not an action"
        assert payload["action"].startswith(SYSTEMS[system][0]), f"{name}: {system} does not serve it"
        assert payload["state.$"] == "$" and payload["workflow"], name


def test_waits_pass_their_task_token_and_the_approval_times_out():
    activation = load(ROOT / "statemachines" / "customer_activation.asl.json")
    waits = {n: s for n, s in tasks(activation) if s["Resource"].endswith(".waitForTaskToken")}
    assert {"AwaitIdentityDecision", "AwaitDataFix", "AwaitApproval"} <= set(waits)
    assert all((s["Parameters"].get("Payload") or s["Parameters"]["MessageBody"])["task_token.$"] == "$$.Task.Token"
               for s in waits.values())
    approval = waits["AwaitApproval"]
    assert {"TimeoutSecondsPath", "HeartbeatSecondsPath"} <= set(approval)
    assert approval["Catch"][0]["ErrorEquals"] == ["States.Timeout", "States.HeartbeatTimeout"]


def test_a_failure_after_billing_compensates_in_named_states():
    states = load(ROOT / "statemachines" / "customer_activation.asl.json")["States"]
    for name in ("ActivateBilling", "ProvisionSuccessAndErp", "WriteBackToCrm"):
        assert states[name]["Catch"][-1]["Next"] == "CancelSubscriptions"
    assert states["CancelSubscriptions"]["Next"] == "VoidSalesOrder"
    assert states["VoidSalesOrder"]["Next"] == "RecordActivationFailure"



def test_an_amendment_that_fails_once_billing_may_have_changed_reverts_billing():
    # A lost response leaves the change applied in billing although the step failed: billing and the ERP
    # must not stay apart, so the change step itself compensates too.
    states = load(ROOT / "statemachines" / "subscription_amendment.asl.json")["States"]
    for name in ("ChangeSubscription", "UpdateSuccessAndErp"):
        assert states[name]["Catch"][-1]["Next"] == "RevertSubscriptionChange"
    assert states["RevertSubscriptionChange"]["Next"] == "RecordAmendmentFailure"

def test_the_template_wires_each_machine_under_the_name_the_starter_uses():
    template = load_template(ROOT / "template.yaml")
    machines = {r["Properties"]["DefinitionUri"]: r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::Serverless::StateMachine"}
    assert set(machines) == {f"statemachines/{f.name}" for f in FILES}
    names = {props["Name"]["Fn::Sub"] for props in machines.values()}
    assert names == {f"erphub-${{Stage}}-{w}" for w in ("customer-activation", "subscription-amendment", "renewal",
                                                        "cancellation")}
    for uri, props in machines.items():
        used = set(re.findall(r"\$\{(\w+)\}", (ROOT / uri).read_text()))
        assert used <= set(props["DefinitionSubstitutions"]), uri
    # the ERP budget is reserved only when set, so the default deploys on accounts whose quota is 10
    assert template["Resources"]["ErpAdapterFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasErpBudget", {"Ref": "ErpConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["HasErpBudget"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ErpConcurrency"}, 0]}]}
    assert template["Parameters"]["ErpConcurrency"]["Default"] == 0
    # the same budget caps the ERP work queue's consumer, which is that function (AWS's minimum is 2)
    work = template["Resources"]["ErpAdapterFunction"]["Properties"]["Events"]["ErpWork"]["Properties"]
    assert work["Queue"] == {"Fn::GetAtt": ["ErpWorkQueue", "Arn"]} and work["BatchSize"] == 1
    assert work["ScalingConfig"] == {"MaximumConcurrency": {"Fn::If": ["HasErpBudget", {"Ref": "ErpConcurrency"}, 2]}}

