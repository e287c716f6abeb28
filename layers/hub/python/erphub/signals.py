"""Consumers that are not workflows: ERP posting (FIFO, in order per customer) and the renewal-risk signal,
which CRM, billing and ERP each react to on their own queue (choreography, no orchestrator).

Each reaches its system through that system's adapter (DESIGN.md rule 8), so the adapter's reserved
concurrency stays the system's whole budget; typed errors come back as themselves and fail the message.
"""

from __future__ import annotations

import json
from typing import Any

from erphub import adapters
from erphub.canonical import EventEnvelope, EventType
from erphub.observability import logger
from erphub.store import raw_bodies

POSTING_ACTIONS = {
    EventType.INVOICE_FINALIZED: "erp.post_invoice",
    EventType.INVOICE_PAID: "erp.post_invoice",
    EventType.PAYMENT_SUCCEEDED: "erp.post_payment",
    EventType.PAYMENT_FAILED: "erp.post_payment",
}
RISK_ACTIONS = {"crm": "crm.risk", "billing": "billing.collection", "erp": "erp.forecast"}


def _state(bus_event: dict[str, Any]) -> tuple[EventEnvelope, dict[str, Any]]:
    event = raw_bodies.resolve_event(bus_event["detail"])  # a claim-checked event is read back whole
    envelope = EventEnvelope.model_validate(event)
    return envelope, {"event": event, "correlation_id": envelope.correlation_id}


def post_to_erp(bus_event: dict[str, Any]) -> dict[str, Any]:
    """An invoice posts before its payments; a payment whose invoice is not posted yet raises (and retries)."""
    envelope, state = _state(bus_event)
    action = POSTING_ACTIONS[EventType(envelope.type)]
    result = adapters.invoke("erp", action, state=state)
    logger.info("posted to the ERP", extra={"action": action, "correlation_id": envelope.correlation_id, **result})
    return result


def invoices_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Within a batch, each customer's invoices go before its payments (a vendor may send a payment first);
    otherwise the order of the queue is kept."""
    def is_payment(record: dict[str, Any]) -> bool:
        try:
            return str(json.loads(record["body"]).get("detail-type", "")).startswith("billing.payment.")
        except (ValueError, AttributeError):  # not a bus event: left in place, its own processing will fail it
            return False

    ranked = sorted(enumerate(records), key=lambda pair: (is_payment(pair[1]), pair[0]))
    return [record for _, record in ranked]


def renewal_risk(system: str, bus_event: dict[str, Any]) -> dict[str, Any]:
    envelope, state = _state(bus_event)
    result = adapters.invoke(system, RISK_ACTIONS[system], state=state)
    logger.info("renewal risk handled", extra={"system": system, "correlation_id": envelope.correlation_id})
    return result
