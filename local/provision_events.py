"""EventBridge buses, rules, targets and archives. Targets moto delivers (SQS queues, log groups, buses,
archives) are put on the rule as they are; targets it cannot deliver (functions, state machines, Input and
InputPath) go through a hidden bridge queue the local stack drains; schedule rules go to the scheduler."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from local.wiring import Bridge, Schedule, Target

if TYPE_CHECKING:
    from local.provision import Provisioner

_MOTO_DELIVERS = ("sqs", "logs", "events")


def creators(p: Provisioner) -> dict[str, Any]:
    return {
        "AWS::Events::EventBus": lambda lid, props: bus(p, lid, props),
        "AWS::Events::Rule": lambda lid, props: rule(p, lid, props),
        "AWS::Events::Archive": lambda lid, props: archive(p, lid, props),
    }


def _bus_name(value: str | None) -> str:
    return (value or "default").rsplit("/", 1)[-1] if str(value or "").startswith("arn:") else (value or "default")


def bus(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    name = p.t.name_for(logical_id, props.get("Name"))
    arn = p.aws.client("events").create_event_bus(Name=name)["EventBusArn"]
    p.record(logical_id, name, Arn=arn, Name=name)


def archive(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    name = (props.get("ArchiveName") or p.t.name_for(logical_id))[:48]
    request = {"ArchiveName": name, "EventSourceArn": props["SourceArn"]}
    if "EventPattern" in props:
        request["EventPattern"] = _pattern_text(props["EventPattern"])
    if "RetentionDays" in props:
        request["RetentionDays"] = int(props["RetentionDays"])
    arn = p.aws.client("events").create_archive(**request)["ArchiveArn"]
    p.record(logical_id, name, Arn=arn, ArchiveName=name)


def _pattern_text(pattern: Any) -> str:
    return pattern if isinstance(pattern, str) else json.dumps(pattern)


def target_of(p: Provisioner, spec: dict[str, Any]) -> Target | None:
    from local.provision_compute import queue_url_for

    arn = spec["Arn"]
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    kind = {"lambda": "function", "states": "statemachine", "sqs": "sqs"}.get(service)
    if kind is None:
        return None
    return Target(kind, arn, input=spec.get("Input"), input_path=spec.get("InputPath"),
                  group_id=spec.get("SqsParameters", {}).get("MessageGroupId"),
                  queue_url=queue_url_for(p, arn) if kind == "sqs" else None)


def rule(p: Provisioner, logical_id: str, props: dict[str, Any]) -> None:
    events = p.aws.client("events")
    name = p.t.name_for(logical_id, props.get("Name"))[:64]
    bus_name = _bus_name(props.get("EventBusName"))
    request = {"Name": name, "EventBusName": bus_name, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        request["EventPattern"] = _pattern_text(props["EventPattern"])
    if "ScheduleExpression" in props:
        request["ScheduleExpression"] = props["ScheduleExpression"]
    arn = events.put_rule(**request)["RuleArn"]
    p.record(logical_id, name, f"{name} on {bus_name}", Arn=arn)
    targets = props.get("Targets", [])
    if "ScheduleExpression" in props:
        # moto would hand a pattern-less rule's targets every event on the bus: the scheduler delivers instead
        schedule = Schedule(name, props["ScheduleExpression"], arn, [], props.get("State", "ENABLED") == "ENABLED")
        for spec in targets:
            target = target_of(p, spec)
            if target is None:
                p.note(f"{logical_id}.{spec.get('Id')}", "rule target", "skipped", f"{spec['Arn']} not emulated")
            else:
                schedule.targets.append(target)
        p.wiring.schedules.append(schedule)
        return
    direct = []
    for spec in targets:
        label = f"{logical_id}.Targets.{spec.get('Id')}"
        service = spec["Arn"].split(":")[2] if spec["Arn"].count(":") >= 5 else ""
        if "DeadLetterConfig" in spec:
            p.note(label, "rule target", "local", "DeadLetterConfig recorded; local delivery to queues never fails")
        if service in _MOTO_DELIVERS and "Input" not in spec and "InputPath" not in spec:
            direct.append({k: v for k, v in spec.items() if k in ("Id", "Arn", "SqsParameters", "InputTransformer",
                                                                   "DeadLetterConfig", "RetryPolicy")})
            continue
        target = target_of(p, spec)
        if target is None:
            p.note(label, "rule target", "skipped", f"{spec['Arn']} is not a target the local stack delivers")
            continue
        queue_arn = _bridge_queue(p, label, target, name)
        bridged = {"Id": spec["Id"], "Arn": queue_arn}
        if "InputTransformer" in spec:
            bridged["InputTransformer"] = spec["InputTransformer"]
        direct.append(bridged)
    if direct:
        events.put_targets(Rule=name, EventBusName=bus_name, Targets=direct)


def _bridge_queue(p: Provisioner, label: str, target: Target, rule_name: str) -> str:
    sqs = p.aws.client("sqs")
    index = len(p.wiring.bridges)
    queue_name = re.sub(r"[^A-Za-z0-9_-]", "-", f"local-bridge-{index}-{label}")[:80]
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    p.wiring.bridges.append(Bridge(rule_name, url, target))
    p.note(label, "rule target", "local", f"{target.kind} {target.arn} delivered through bridge queue {queue_name}")
    return f"arn:aws:sqs:{p.t.region}:{p.t.account_id}:{queue_name}"

