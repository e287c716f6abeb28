"""Starts the workflow a canonical event asks for. The execution name is the business key + version, so
a redelivered event (or a second publication of it) finds its execution already there and does nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.canonical import EventEnvelope, EventType
from erphub.errors import Permanent, Transient
from erphub.observability import logger, metrics
from erphub.settings import get_settings
from erphub.store import raw_bodies

WORKFLOW_BY_EVENT_TYPE: dict[str, str] = {
    EventType.OPPORTUNITY_CLOSED_WON: "activation",
    EventType.OPPORTUNITY_AMENDED: "amendment",
    EventType.OPPORTUNITY_RENEWED: "renewal",
    EventType.CANCELLATION_REQUESTED: "cancellation",
}
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NAME_MAX = 80


def execution_name(envelope: EventEnvelope) -> str:
    """Step Functions names allow 80 characters of [A-Za-z0-9-_]; long keys keep a hash to stay unique."""
    name = _NAME_UNSAFE.sub("-", f"{envelope.business_key}-v{envelope.version}").strip("-")
    if len(name) <= _NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[: _NAME_MAX - 13]}-{digest}"


def start_for(bus_event: dict[str, Any]) -> str:
    """Start the workflow for an EventBridge event (as delivered to SQS); returns the execution name."""
    detail = bus_event["detail"]
    envelope = EventEnvelope.model_validate(raw_bodies.resolve_event(detail))
    workflow = WORKFLOW_BY_EVENT_TYPE.get(str(envelope.type))
    arn = get_settings().state_machine_arns.get(workflow or "")
    if not workflow or not arn:
        raise Permanent(f"no workflow is configured for {envelope.type}", record=envelope.event_id)
    name = execution_name(envelope)
    # A claim-checked event stays a claim check in the execution's input (Step Functions takes 256 KB at most);
    # each action reads it back (Run.envelope)
    event = detail if raw_bodies.CLAIM_CHECK in detail else json.loads(envelope.model_dump_json())
    workflow_input = {"event": event, "correlation_id": envelope.correlation_id}
    try:
        aws.client("stepfunctions").start_execution(stateMachineArn=arn, name=name, input=json.dumps(workflow_input))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ExecutionAlreadyExists":
            logger.info("execution already started", extra={"execution": name})
            metrics.add_metric(name="workflow_already_started", unit="Count", value=1)
            return name
        raise Transient(f"could not start {workflow}: {code}", system="stepfunctions", record=name) from exc
    metrics.add_metric(name="workflow_started", unit="Count", value=1)
    logger.info("workflow started", extra={"workflow": workflow, "execution": name,
                                           "correlation_id": envelope.correlation_id})
    return name
