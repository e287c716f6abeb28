"""The renewal-risk signal, which CRM, billing and ERP each react to on their own queue (choreography, no
orchestrator): one consumer Lambda per system, each built here by `lambda_handler_for(system)`.

Each reaches its system through that system's adapter (DESIGN.md rule 8), so the adapter's reserved
concurrency stays the system's whole budget; typed errors come back as themselves and fail the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from erphub import adapters, consuming
from erphub.canonical import EventEnvelope
from erphub.errors import Permanent
from erphub.observability import logger, metrics
from erphub.store import raw_bodies

RISK_ACTIONS = {"crm": "crm.risk", "billing": "billing.collection", "erp": "erp.forecast"}
# one adapter call may take up to the adapter's timeout (CRM and billing 30 s, ERP 60 s) plus 5 s of margin:
# the consumer starts none with less time than that left
ADAPTER_CALL_RESERVE_SECONDS = {"crm": 35, "billing": 35, "erp": 65}


def renewal_risk(system: str, bus_event: dict[str, Any]) -> dict[str, Any]:
    event = raw_bodies.resolve_event(bus_event["detail"])  # a claim-checked event is read back whole
    envelope = EventEnvelope.model_validate(event)
    result = adapters.invoke(system, RISK_ACTIONS[system],
                             state={"event": event, "correlation_id": envelope.correlation_id})
    logger.info("renewal risk handled", extra={"system": system, "correlation_id": envelope.correlation_id})
    return result


def lambda_handler_for(system: str) -> Callable[[dict, LambdaContext], dict]:
    """The handler of the renewal-risk consumer of one system: only the system differs between the three."""
    if system not in RISK_ACTIONS:
        raise Permanent(f"no renewal-risk consumer for {system!r}", system=system)

    def react(record: SQSRecord) -> dict[str, Any]:
        return renewal_risk(system, json.loads(record.body))

    consumer = consuming.Consumer(f"renewal_risk_{system}", react, BatchProcessor(event_type=EventType.SQS),
                                  time_reserve_seconds=ADAPTER_CALL_RESERVE_SECONDS[system])

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        return consumer(event, context)

    return lambda_handler
