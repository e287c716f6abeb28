"""Moves invoice and payment events onto the ERP posting FIFO queue, one message group per customer, so
a customer's postings keep their order while different customers post in parallel."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.canonical import EventEnvelope
from erphub.errors import Transient
from erphub.observability import metrics
from erphub.settings import get_settings
from erphub.store import raw_bodies


def sequence(bus_event: dict[str, Any]) -> None:
    envelope = EventEnvelope.model_validate(raw_bodies.resolve_event(bus_event["detail"]))
    try:
        aws.client("sqs").send_message(
            QueueUrl=get_settings().erp_posting_queue_url,
            MessageBody=json.dumps(bus_event),
            MessageGroupId=envelope.business_key[:128],
            MessageDeduplicationId=envelope.event_id,  # a republished event within 5 minutes is dropped
        )
    except ClientError as exc:
        raise Transient("could not queue the ERP posting", system="sqs", record=envelope.event_id) from exc
    metrics.add_metric(name="erp_postings_sequenced", unit="Count", value=1)
