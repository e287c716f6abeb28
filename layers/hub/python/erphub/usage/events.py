"""A `billing.usage.recorded` bus event (a billing vendor's usage webhook, normalized) counted like a product
record: its id is the vendor's usage-record id (else the vendor event id), so a redelivery counts nothing."""

from __future__ import annotations

from typing import Any

from erphub.canonical import EventEnvelope, UsageRecord
from erphub.errors import Permanent
from erphub.observability import logger
from erphub.store import raw_bodies
from erphub.usage.ingest import count


def count_bus_event(bus_event: dict[str, Any]) -> dict[str, Any]:
    envelope = EventEnvelope.model_validate(raw_bodies.resolve_event(bus_event["detail"]))
    usage = envelope.data
    if not isinstance(usage, UsageRecord) or not usage.subscription_id:
        raise Permanent(f"event {envelope.event_id} carries no subscription's usage", record=envelope.event_id)
    outcome = count(envelope.source, [{
        "id": usage.record_id or envelope.source_event_id, "subscription_id": usage.subscription_id,
        "metric": usage.metric, "quantity": str(usage.quantity), "recorded_at": usage.recorded_at.isoformat()}])[0]
    logger.info("usage counted", extra={"source": envelope.source, **outcome.model_dump(exclude_none=True)})
    return outcome.model_dump(exclude_none=True)
