"""ERP posting: billing's invoices and payments, from the FIFO queue (one message group per customer, put there
by erphub.sequencing), booked in the ERP in order per customer.

Postings reach the ERP through its adapter (DESIGN.md rule 8), so the adapter's reserved concurrency stays the
ERP's whole budget; the adapter's typed errors come back as themselves and fail the message. The ERP side of
each posting is the adapter's `erp.post_invoice` / `erp.post_payment` (erphub.workflows.actions.erp_ledger).
"""

from __future__ import annotations

import json
from typing import Any

from erphub import adapters
from erphub.canonical import EventEnvelope, EventType
from erphub.observability import logger
from erphub.store import raw_bodies

ACTIONS = {
    EventType.INVOICE_FINALIZED: "erp.post_invoice",
    EventType.INVOICE_PAID: "erp.post_invoice",
    EventType.PAYMENT_SUCCEEDED: "erp.post_payment",
    EventType.PAYMENT_FAILED: "erp.post_payment",
}


def post(bus_event: dict[str, Any]) -> dict[str, Any]:
    """An invoice posts before its payments; a payment whose invoice is not posted yet raises (and retries)."""
    event = raw_bodies.resolve_event(bus_event["detail"])  # a claim-checked event is read back whole
    envelope = EventEnvelope.model_validate(event)
    action = ACTIONS[EventType(envelope.type)]
    result = adapters.invoke("erp", action, state={"event": event, "correlation_id": envelope.correlation_id})
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
