"""Functions, layers, state machines and event source mappings of the transformed template, and the routes of
the SAM functions' Api events (the HTTP gateway serves them in place of the generated REST APIs)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from local.functions import FunctionSpec
from local.sam_transform import local_path
from local.wiring import EventSource, Route

if TYPE_CHECKING:
    from local.provision import Provisioner

ROLE_NAME = "local-stack-execution-role"  # one role for every local function: IAM is not enforced


def creators(p: Provisioner) -> dict[str, Any]:
    return {
        "AWS::Lambda::Function": lambda lid, props: function(p, lid, props),
        "AWS::Lambda::LayerVersion": lambda lid, props: layer(p, lid, props),
        "AWS::StepFunctions::StateMachine": lambda lid, props: state_machine(p, lid, props),
        "AWS::Lambda::EventSourceMapping": lambda lid, props: event_source_mapping(p, lid, props),
        "AWS::Lambda::EventInvokeConfig": lambda lid, props: p.note(
            lid, "AWS::Lambda::EventInvokeConfig", "skipped", "async invocation destinations are not emulated"),
    }


def routes(p: Provisioner) -> None:
    """The Api events of the SAM functions the transform kept, as the routes of the local HTTP gateway."""
    for logical_id, resource in p.t.sam.items():
        if resource.get("Type") != "AWS::Serverless::Function" or logical_id not in p.t.physical:
            continue
        for event_name, event in (resource.get("Properties", {}).get("Events") or {}).items():
            props = event.get("Properties", {})
            if event.get("Type") in ("Api", "HttpApi"):
                method = str(props.get("Method", "ANY")).upper()
                api = p.t.api_of(props)[1]
                binary = tuple(str(t).replace("~1", "/") for t in p.t.resolve(api.get("BinaryMediaTypes") or []))
                p.wiring.routes.append(Route(method, props["Path"], logical_id, event_name, binary))
                p.note(f"{logical_id}.Events.{event_name}", f"event {event['Type']}", "local",
                       f"{method} {props['Path']}")


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
    content = local_path(props.get("Content"))
    if content is None:
        p.note(logical_id, p.t.resources[logical_id]["Type"], "skipped", "layer content is not a local path")
        return
    p.t.physical[logical_id] = {"Ref": str(content), "Arn": str(content)}
    p.note(logical_id, p.t.resources[logical_id]["Type"], "local", f"{content} on sys.path")


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
    code_dir = local_path(props.get("Code"))
    if code_dir is None or props.get("PackageType") == "Image":
        p.note(logical_id, "AWS::Lambda::Function", "skipped", "code is not a local directory (S3 or image)")
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
    shown = code_dir.relative_to(p.t.root) if code_dir.is_relative_to(p.t.root) else code_dir
    p.record(logical_id, name, f"{name} ({shown}/{props['Handler']})", Arn=arn)
    p.wiring.functions.append(FunctionSpec(
        logical_id=logical_id, name=name, arn=arn, code_dir=code_dir, handler=props["Handler"],
        layers=_layer_paths(p, logical_id, props.get("Layers", [])), variables=variables, timeout=timeout,
        memory=memory, reserved=None if reserved is None else int(reserved), properties=props))


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
    name = p.t.name_for(logical_id, props.get("StateMachineName"))
    definition = local_path(props.get("DefinitionS3Location"))
    if definition is not None:
        text = definition.read_text(encoding="utf-8")
        if definition.suffix in (".yaml", ".yml"):
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
    kind = props.get("StateMachineType", "STANDARD")
    arn = p.aws.client("stepfunctions").create_state_machine(
        name=name, definition=text, roleArn=str(role), type=kind)["stateMachineArn"]
    p.record(logical_id, arn, name, Arn=arn, Name=name)
