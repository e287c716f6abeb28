"""Functions, layers and state machines of a template, and the event sources, routes and schedules that
SAM functions and state machines declare in their Events."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from local.functions import FunctionSpec
from local.wiring import EventSource, Route, Schedule, Target

if TYPE_CHECKING:
    from local.provision import Provisioner

ROLE_NAME = "local-stack-execution-role"  # one role for every local function: IAM is not enforced


def creators(p: Provisioner) -> dict[str, Any]:
    return {
        "AWS::Serverless::Function": lambda lid, props: function(p, lid, props),
        "AWS::Lambda::Function": lambda lid, props: function(p, lid, props),
        "AWS::Serverless::LayerVersion": lambda lid, props: layer(p, lid, props),
        "AWS::Lambda::LayerVersion": lambda lid, props: layer(p, lid, props),
        "AWS::Serverless::StateMachine": lambda lid, props: state_machine(p, lid, props),
        "AWS::StepFunctions::StateMachine": lambda lid, props: state_machine(p, lid, props),
        "AWS::Lambda::EventSourceMapping": lambda lid, props: event_source_mapping(p, lid, props),
        "AWS::Lambda::EventInvokeConfig": lambda lid, props: p.note(
            lid, "AWS::Lambda::EventInvokeConfig", "skipped", "async invocation destinations are not emulated"),
    }


def finish(p: Provisioner) -> None:
    """Nothing to do after the last resource yet; kept as the hook where cross-resource checks belong."""


def _role_arn(p: Provisioner) -> str:
    arn = f"arn:aws:iam::{p.t.account_id}:role/{ROLE_NAME}"
    if not getattr(p, "_role_created", False):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "lambda.amazonaws.com"}}]}
        p.aws.client("iam").create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
        p._role_created = True  # type: ignore[attr-defined]
    return arn


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "code runs in-process in the local stack")
    return buffer.getvalue()


def layer(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    content = props.get("ContentUri") or props.get("Content")
    if not isinstance(content, str):
        p.note(logical_id, p.t.resources[logical_id]["Type"], "skipped", "layer content is not a local path")
        return
    path = p.t.local_path(content)
    p.t.physical[logical_id] = {"Ref": str(path), "Arn": str(path)}
    p.note(logical_id, p.t.resources[logical_id]["Type"], "local", f"{path} on sys.path")


def _layer_paths(p: Provisioner, logical_id: str, layers: list[Any]) -> list[Path]:
    paths = []
    for entry in layers:
        path = Path(str(entry))
        if path.is_dir():
            paths.append(path / "python" if (path / "python").is_dir() else path)
        else:
            p.note(logical_id, "Layer", "skipped", f"layer {entry} is not local: its packages must be installed")
    return paths


def function(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    name = p.t.name_for(logical_id, props.get("FunctionName"))
    code_uri = props.get("CodeUri", ".")
    if not isinstance(code_uri, str) or props.get("PackageType") == "Image":
        p.note(logical_id, "AWS::Serverless::Function", "skipped", "code is not a local directory (S3 or image)")
        return
    variables = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
    timeout, memory = int(props.get("Timeout", 3)), int(props.get("MemorySize", 128))
    awslambda = p.aws.client("lambda")
    arn = awslambda.create_function(
        FunctionName=name, Runtime=props.get("Runtime", "python3.12"), Role=_role_arn(p), Handler=props["Handler"],
        Code={"ZipFile": _placeholder_zip()}, Timeout=timeout, MemorySize=memory,
        Environment={"Variables": variables})["FunctionArn"]
    reserved = props.get("ReservedConcurrentExecutions")
    if reserved is not None:
        awslambda.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(reserved))
    p.t.physical.setdefault(f"{logical_id}Role", {"Ref": ROLE_NAME, "Arn": _role_arn(p)})
    p.record(logical_id, name, f"{name} ({code_uri}{props['Handler']})", Arn=arn)
    p.wiring.functions.append(FunctionSpec(
        logical_id=logical_id, name=name, arn=arn, code_dir=p.t.local_path(code_uri), handler=props["Handler"],
        layers=_layer_paths(p, logical_id, props.get("Layers", [])), variables=variables, timeout=timeout,
        memory=memory, reserved=None if reserved is None else int(reserved), properties=props))
    for event_name, event in props.get("Events", {}).items():
        _function_event(p, logical_id, arn, event_name, event.get("Type", ""), event.get("Properties", {}))


def _function_event(p: Provisioner, logical_id: str, arn: str, event_name: str, kind: str,
                    props: dict[str, Any]) -> None:
    from local import provision_events

    label = f"{logical_id}.Events.{event_name}"
    if kind in ("Api", "HttpApi"):
        p.t.physical.setdefault("ServerlessRestApi", {"Ref": "local", "RootResourceId": "local"})
        p.wiring.routes.append(Route(str(props.get("Method", "ANY")).upper(), props["Path"], logical_id, event_name))
    elif kind == "SQS":
        p.wiring.sources.append(EventSource("sqs", logical_id, label, props["Queue"], props,
                                            queue_url=queue_url_for(p, props["Queue"])))
    elif kind == "DynamoDB":
        p.wiring.sources.append(EventSource("stream", logical_id, label, props["Stream"], props))
    elif kind in ("Schedule", "ScheduleV2"):
        target = Target("function", arn, input=props.get("Input"))
        enabled = props.get("Enabled", str(props.get("State", "ENABLED")).upper() == "ENABLED")
        expression = props.get("Schedule") or props["ScheduleExpression"]
        p.wiring.schedules.append(Schedule(label, expression, "", [target], bool(enabled)))
    elif kind in ("EventBridgeRule", "CloudWatchEvent"):
        target = Target("function", arn, input=props.get("Input"), input_path=props.get("InputPath"))
        provision_events.bridge_rule(p, label, props.get("EventBusName", "default"), props.get("Pattern", {}), target)
    else:
        p.note(label, f"event {kind}", "skipped", "event type not emulated by the local stack")
        return
    p.note(label, f"event {kind}", "local", _describe_event(kind, props))


def _describe_event(kind: str, props: dict[str, Any]) -> str:
    if kind in ("Api", "HttpApi"):
        return f"{str(props.get('Method', 'ANY')).upper()} {props['Path']}"
    return ", ".join(f"{k}={v}" for k, v in props.items() if isinstance(v, str | int | bool))[:160]


def queue_url_for(p: Provisioner, arn: str) -> str | None:
    for physical in p.t.physical.values():
        if physical.get("Arn") == arn and "QueueUrl" in physical:
            return physical["QueueUrl"]
    return None


def event_source_mapping(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    function_name = props["FunctionName"]
    spec = next((s for s in p.wiring.functions if function_name in (s.name, s.arn, s.logical_id)), None)
    source_arn = props["EventSourceArn"]
    if spec is None or (":sqs:" not in source_arn and ":dynamodb:" not in source_arn):
        p.note(logical_id, "AWS::Lambda::EventSourceMapping", "skipped", "function or source not local")
        return
    kind = "sqs" if ":sqs:" in source_arn else "stream"
    settings = {**props, "Queue": source_arn} if kind == "sqs" else {**props, "Stream": source_arn}
    p.wiring.sources.append(EventSource(kind, spec.logical_id, logical_id, source_arn, settings,
                                        queue_url=queue_url_for(p, source_arn) if kind == "sqs" else None))
    p.note(logical_id, "AWS::Lambda::EventSourceMapping", "local", f"{source_arn} -> {spec.name}")


def state_machine(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    name = p.t.name_for(logical_id, props.get("Name") or props.get("StateMachineName"))
    if isinstance(props.get("DefinitionUri"), str):
        path = p.t.local_path(props["DefinitionUri"])
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            text = json.dumps(yaml.safe_load(text))
    elif "Definition" in props:
        text = json.dumps(props["Definition"])
    elif isinstance(props.get("DefinitionString"), str):
        text = props["DefinitionString"]
    else:
        p.note(logical_id, p.t.resources[logical_id]["Type"], "skipped", "definition is not local (S3)")
        return
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + key + "}", str(value))
    # IAM is not enforced locally: the template's role (WorkflowRole) is not created, so every state machine
    # runs under the local execution role, as every function does
    role = _role_arn(p)
    arn = p.aws.client("stepfunctions").create_state_machine(
        name=name, definition=text, roleArn=str(role), type=props.get("Type", "STANDARD"))["stateMachineArn"]
    p.record(logical_id, arn, name, Arn=arn, Name=name)
    for event_name, event in props.get("Events", {}).items():
        kind, event_props = event.get("Type", ""), event.get("Properties", {})
        label = f"{logical_id}.Events.{event_name}"
        target = Target("statemachine", arn, input=event_props.get("Input"), input_path=event_props.get("InputPath"))
        if kind in ("Schedule", "ScheduleV2"):
            expression = event_props.get("Schedule") or event_props["ScheduleExpression"]
            p.wiring.schedules.append(Schedule(label, expression, "", [target], bool(event_props.get("Enabled", True))))
        elif kind in ("EventBridgeRule", "CloudWatchEvent"):
            from local import provision_events

            provision_events.bridge_rule(p, label, event_props.get("EventBusName", "default"),
                                         event_props.get("Pattern", {}), target)
        else:
            p.note(label, f"event {kind}", "skipped", "event type not emulated by the local stack")
            continue
        p.note(label, f"event {kind}", "local", _describe_event(kind, event_props))
