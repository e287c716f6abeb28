"""Writes statemachines/*.asl.json from the compact workflow sources statemachines/<workflow>.yaml and the one
policy every workflow shares, statemachines/policy.yaml (dev-time code: Lambda never imports it).

    python -m tools.asl          # write (make asl)
    python -m tools.asl --check  # exit 1 if a committed .asl.json differs from its source

A source is Amazon States Language with two shorthands for Tasks, which are the only way to write one:
  call: <adapter> <action>   the adapter Lambda runs the action; its return value lands at ResultPath
  wait: <exception kind>     the hub opens that exception and the run waits on the task token
plus `with:` (more payload fields), `on_error:` (the catch-all target; default: the workflow's or branch's
`on_error:`), `on_outage:` (where the policy's outage errors go) and `on_timeout:` (where a wait's timeout
goes). The policy adds Resource, Parameters, Retry, Catch and the machine's TimeoutSeconds; a wait's
TimeoutSeconds and HeartbeatSeconds come from its kind in layers/hub/python/erphub/config/exception_kinds.json
(`wait_timeout_seconds`, `heartbeat_seconds`), the one place an exception's owner and SLA live too; every other
key is copied as written, in order.

Calls use the plain function ARN, the one form whose result is the function's return value as is; waits use
`arn:aws:states:::lambda:invoke.waitForTaskToken`, the only form that hands a Lambda a task token. A call to a
system with a work queue in the policy (`work_queues:`, the ERP) is `arn:aws:states:::sqs:sendMessage.waitForTaskToken`
onto that queue instead: the message is the call's payload plus its task token, the consumer answers with the
action's result or its typed error (erphub.erp_work), the Task waits at most the queue's TimeoutSeconds, and with
`on_outage:` a timeout (a lost or unanswered message) goes where the outage errors go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tools import generated

ROOT = Path(__file__).resolve().parent.parent
MACHINES = ROOT / "statemachines"
POLICY = MACHINES / "policy.yaml"
KINDS = ROOT / "layers" / "hub" / "python" / "erphub" / "config" / "exception_kinds.json"
# adapter -> its ARN, as the DefinitionSubstitutions of template.yaml fill it in
ADAPTERS = {"hub_steps": "${HubStepsArn}", "crm": "${CrmAdapterArn}", "billing": "${BillingAdapterArn}",
            "success": "${SuccessAdapterArn}", "erp": "${ErpAdapterArn}"}
WAIT_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken"
WAIT_ACTION = "exceptions.wait"
QUEUE_RESOURCE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
TOKEN = {"task_token.$": "$$.Task.Token"}
TIMEOUTS = ["States.Timeout", "States.HeartbeatTimeout"]
SHORTHANDS = {"call", "wait", "with", "on_error", "on_outage", "on_timeout"}


class WorkflowSourceError(ValueError):
    """A workflow source breaks the rules the generator enforces (named state, reason)."""


def sources() -> list[Path]:
    return sorted(p for p in MACHINES.glob("*.yaml") if p != POLICY)


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def wait_kinds() -> dict[str, Any]:
    """Exception kind -> its settings (exception_kinds.json): the waits' bounds."""
    kinds: dict[str, Any] = json.loads(KINDS.read_text(encoding="utf-8"))["kinds"]
    return kinds


def render(source: dict[str, Any], policy: dict[str, Any], kinds: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ASL of one workflow source."""
    policy = {**policy, "kinds": kinds if kinds is not None else wait_kinds()}
    workflow = source["workflow"]
    machine = {"Comment": source["Comment"], "StartAt": source["StartAt"],
               "TimeoutSeconds": policy["execution_timeout_seconds"]}
    machine["States"] = _states(source["States"], source["on_error"], workflow, policy)
    return machine


def _states(states: dict[str, Any], on_error: str, workflow: str, policy: dict[str, Any]) -> dict[str, Any]:
    rendered = {}
    for name, state in states.items():
        try:
            if "call" in state or "wait" in state:
                rendered[name] = _task(state, on_error, workflow, policy)
            elif state.get("Type") == "Task":
                raise WorkflowSourceError("write a Task as `call:` or `wait:` so the policy applies to it")
            elif state.get("Type") == "Parallel":
                rendered[name] = _parallel(state, on_error, workflow, policy)
            elif any(k[0].islower() for k in state):
                raise WorkflowSourceError("shorthands are for `call:`/`wait:` Tasks and Parallel `on_error:`")
            else:
                rendered[name] = state
        except (WorkflowSourceError, KeyError) as exc:
            raise WorkflowSourceError(f"{name}: {exc}") from exc
    return rendered


def _parallel(state: dict[str, Any], on_error: str, workflow: str, policy: dict[str, Any]) -> dict[str, Any]:
    branches = [{"StartAt": b["StartAt"], "States": _states(b["States"], b["on_error"], workflow, policy)}
                for b in state["Branches"]]
    asl = {k: v for k, v in state.items() if k not in ("Branches", "Next", "End", "on_error")}
    asl["Branches"] = branches
    asl["Catch"] = [_catch(["States.ALL"], state.get("on_error", on_error), policy)]
    return {**asl, **_transition(state)}


def _task(state: dict[str, Any], on_error: str, workflow: str, policy: dict[str, Any]) -> dict[str, Any]:
    unknown = {k for k in state if k[0].islower()} - SHORTHANDS
    if unknown:
        raise WorkflowSourceError(f"unknown shorthand {sorted(unknown)}")
    asl: dict[str, Any] = {"Type": "Task"}
    if "Comment" in state:
        asl["Comment"] = state["Comment"]
    queue = _work_queue(state, policy)
    if queue:
        asl.update(_queue_call(state, workflow, queue))
    elif "call" in state:
        system, action = state["call"].split()
        asl["Resource"] = ADAPTERS[system]
        asl["Parameters"] = {"action": action, "workflow": workflow, **state.get("with", {}), "state.$": "$"}
    else:
        asl["Resource"] = WAIT_RESOURCE
        asl["Parameters"] = {"FunctionName": ADAPTERS["hub_steps"], "Payload": {
            "action": WAIT_ACTION, "workflow": workflow, "kind": state["wait"], **state.get("with", {}),
            **TOKEN, "state.$": "$"}}
    asl.update({k: v for k, v in state.items() if k[0].isupper() and k not in ("Comment", "Next", "End")})
    if "wait" in state:
        asl.update(_wait_bounds(state, policy["kinds"]))
    if queue:
        asl["TimeoutSeconds"] = queue["TimeoutSeconds"]
    asl["Retry"] = policy["retry"]
    asl["Catch"] = _catches(state, on_error, policy)
    return {**asl, **_transition(state)}


def _work_queue(state: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any] | None:
    """The policy's work queue of the system a call goes to (None: the call invokes the adapter)."""
    if "call" not in state:
        return None
    queue: dict[str, Any] | None = policy.get("work_queues", {}).get(state["call"].split()[0])
    if queue and "TimeoutSeconds" in state:
        raise WorkflowSourceError("a queued call's TimeoutSeconds is its work queue's, in the policy")
    return queue


def _queue_call(state: dict[str, Any], workflow: str, queue: dict[str, Any]) -> dict[str, Any]:
    _system, action = state["call"].split()
    body = {"action": action, "workflow": workflow, **state.get("with", {}), **TOKEN, "state.$": "$"}
    return {"Resource": QUEUE_RESOURCE, "Parameters": {"QueueUrl": queue["QueueUrl"], "MessageBody": body}}


def _wait_bounds(state: dict[str, Any], kinds: dict[str, Any]) -> dict[str, Any]:
    """A wait's TimeoutSeconds and (where its kind can be acknowledged) HeartbeatSeconds, from its kind. A wait
    that reads them from its input (`TimeoutSecondsPath`, `HeartbeatSecondsPath`: the approval, whose action
    answers its kind's values, shortened per stage) must read both its kind has."""
    written = sorted({"TimeoutSeconds", "HeartbeatSeconds"} & set(state))
    if written:
        raise WorkflowSourceError(f"{written}: a wait's bounds come from its kind in exception_kinds.json")
    kind = kinds.get(state["wait"]) or {}
    if "wait_timeout_seconds" not in kind:
        raise WorkflowSourceError(f"no wait_timeout_seconds for {state['wait']!r} in exception_kinds.json")
    if "HeartbeatSecondsPath" in state and "heartbeat_seconds" not in kind:
        raise WorkflowSourceError(f"{state['wait']!r} has no heartbeat_seconds: nothing acknowledges it")
    if "TimeoutSecondsPath" in state:
        if "heartbeat_seconds" in kind and "HeartbeatSecondsPath" not in state:
            raise WorkflowSourceError("a wait with TimeoutSecondsPath reads HeartbeatSecondsPath too")
        return {}
    bounds = {"TimeoutSeconds": kind["wait_timeout_seconds"]}
    if "heartbeat_seconds" in kind:
        bounds["HeartbeatSeconds"] = kind["heartbeat_seconds"]
    return bounds


def _catches(state: dict[str, Any], on_error: str, policy: dict[str, Any]) -> list[dict[str, Any]]:
    catches = []
    if "on_timeout" in state:
        catches.append(_catch(TIMEOUTS, state["on_timeout"], policy))
    if "on_outage" in state:
        # a queued call that timed out was not answered: the system's side is down or stuck, like an outage
        timeout = ["States.Timeout"] if _work_queue(state, policy) else []
        catches.append(_catch([*policy["outage_errors"], *timeout], state["on_outage"], policy))
    return [*catches, _catch(["States.ALL"], state.get("on_error", on_error), policy)]


def _catch(errors: list[str], target: str, policy: dict[str, Any]) -> dict[str, Any]:
    return {"ErrorEquals": list(errors), "ResultPath": policy["catch_result_path"], "Next": target}


def _transition(state: dict[str, Any]) -> dict[str, Any]:
    if ("Next" in state) == ("End" in state):
        raise WorkflowSourceError("needs exactly one of Next and End")
    return {"Next": state["Next"]} if "Next" in state else {"End": state["End"]}


def generate() -> dict[Path, str]:
    """Committed .asl.json path -> the text the sources make."""
    policy, kinds = load_yaml(POLICY), wait_kinds()
    return {MACHINES / f"{src.stem}.asl.json": json.dumps(render(load_yaml(src), policy, kinds), indent=2) + "\n"
            for src in sources()}


def drift() -> list[Path]:
    """.asl.json files that are missing or differ from what their sources make."""
    return generated.drift(generate())


def main(argv: list[str] | None = None) -> int:
    return generated.main(__doc__ or "", generate(), "asl", argv)


if __name__ == "__main__":
    raise SystemExit(main())
