"""What provisioning learns from the template that moto cannot run by itself: event sources, routes,
schedules and rule targets the local stack delivers (all found in the template, none listed here)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Target:
    """A rule or schedule target the local stack delivers: a function, a state machine or a queue."""

    kind: str  # "function" | "statemachine" | "sqs"
    arn: str
    input: str | None = None  # constant JSON text (Input)
    input_path: str | None = None  # "$.detail" style
    group_id: str | None = None  # SqsParameters.MessageGroupId for FIFO queues
    queue_url: str | None = None

    def shape(self, event: dict[str, Any]) -> Any:
        if self.input is not None:
            return json.loads(self.input)
        if self.input_path:
            return json_path(event, self.input_path)
        return event


@dataclass
class Route:
    method: str  # upper case, "ANY" for any
    path: str  # "/items/{id}" or "/files/{proxy+}"
    function_id: str
    event_name: str
    binary_media_types: tuple[str, ...] = ()  # its API's BinaryMediaTypes, "~1" read as "/"


@dataclass
class EventSource:
    kind: str  # "sqs" | "stream"
    function_id: str
    name: str
    source_arn: str
    properties: dict[str, Any]
    queue_url: str | None = None


@dataclass
class Schedule:
    name: str
    expression: str
    rule_arn: str
    targets: list[Target] = field(default_factory=list)
    enabled: bool = True


@dataclass
class Bridge:
    """A hidden queue standing in for a rule target moto cannot deliver (Lambda, state machine, Input/InputPath)."""

    rule: str
    queue_url: str
    target: Target


@dataclass
class ReportLine:
    logical_id: str
    resource_type: str
    status: str  # "created" | "local" | "skipped"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.status:8} {self.logical_id} ({self.resource_type}){': ' + self.detail if self.detail else ''}"


@dataclass
class Wiring:
    routes: list[Route] = field(default_factory=list)
    sources: list[EventSource] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    bridges: list[Bridge] = field(default_factory=list)
    report: list[ReportLine] = field(default_factory=list)
    functions: list[Any] = field(default_factory=list)  # FunctionSpec of every local function


def json_path(document: Any, path: str) -> Any:
    """The simple JSONPath EventBridge InputPath and InputPathsMap use: $.a.b[0]."""
    value = document
    for part in path.removeprefix("$").replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value
