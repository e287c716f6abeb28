"""Count usage records into their period's total, each record once (by its id), however often it arrives.

A record names the billing system's subscription, a meter (the usage terms' metric), a quantity and when the
usage happened. The subscription's contract gives the period and the terms; a record whose period has passed
its cut-off is refused as late, visibly: in the answer and as a LATE item an operator can list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from erphub.canonical import SubscriptionItem
from erphub.observability import emit, logger
from erphub.store.identity_table import IdentityStore
from erphub.store.usage import UsageStore, total_key
from erphub.usage.periods import cutoff, period_of
from erphub.workflows.systems import vendor

MAX_RECORDS = 500
Status = Literal["accepted", "duplicate", "refused"]


class UsageIn(BaseModel):
    """One usage record as the product (or a billing webhook, normalized) sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    subscription_id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    metric: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    quantity: Decimal = Field(ge=0, max_digits=30, decimal_places=12)
    recorded_at: datetime

    @field_validator("recorded_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("recorded_at needs a time zone (e.g. 2026-11-03T10:00:00Z)")
        return value.astimezone(UTC)


class Outcome(BaseModel):
    id: str | None
    status: Status
    reason: str | None = None
    period_start: str | None = None


@dataclass(frozen=True)
class Meter:
    """What the contract says about one subscription's meter."""

    contract_id: str
    entity: str
    sku: str
    frequency: str
    anchor: str
    included: str
    overage_unit_price: str


def meter_for(identity: IdentityStore, system: str, subscription_id: str, metric: str) -> Meter | str:
    """The contract terms of the subscription's meter, or why there are none."""
    linked = identity.contract_of(system, "subscription", subscription_id)
    if linked is None:
        return "unknown_subscription"
    contract_id, entity = linked
    terms = identity.terms(contract_id)
    items = [SubscriptionItem.model_validate(i) for i in terms.get("items") or []]
    first = next((i.legal_entity_id for i in items if i.legal_entity_id), entity)
    usage = next((i for i in items if i.usage is not None and i.usage.metric == metric
                  and (i.legal_entity_id or first) == entity), None)
    if usage is None or usage.usage is None or not terms.get("term_start"):
        return "unknown_metric"
    frequency = str(usage.usage.period or terms.get("billing_frequency") or "annual")
    return Meter(contract_id, entity, usage.sku, frequency, str(terms["term_start"]),
                 str(usage.usage.included_quantity), str(usage.usage.overage_unit_price))


def count(source: str, records: list[dict[str, Any]]) -> list[Outcome]:
    """Count a batch; one outcome per record, in order. A malformed record is refused, the rest go on."""
    store, identity, system = UsageStore(), IdentityStore(), vendor("billing")
    meters: dict[tuple[str, str], Meter | str] = {}
    outcomes = []
    for raw in records:
        try:
            record = UsageIn.model_validate(raw)
        except ValidationError as exc:
            rid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            outcomes.append(Outcome(id=rid, status="refused", reason=f"invalid: {_first_error(exc)}"))
            continue
        key = (record.subscription_id, record.metric)
        if key not in meters:
            meters[key] = meter_for(identity, system, *key)
        outcomes.append(_count_one(store, source, system, record, meters[key]))
    for status in ("accepted", "duplicate", "refused"):
        emit("usage_records", sum(o.status == status for o in outcomes), status=status)
    return outcomes


def _count_one(store: UsageStore, source: str, system: str, record: UsageIn, meter: Meter | str) -> Outcome:
    if isinstance(meter, str):
        return Outcome(id=record.id, status="refused", reason=meter)
    anchor = date.fromisoformat(meter.anchor)
    if record.recorded_at.date() < anchor:
        return Outcome(id=record.id, status="refused", reason=f"before the contract's term start {anchor}")
    period = period_of(record.recorded_at, anchor, meter.frequency)
    closes_at = period.closes_at(cutoff())
    marker = {"pk": f"REC#{source}#{record.id}", "sk": "REC", "subscription_id": record.subscription_id,
              "metric": record.metric, "quantity": record.quantity, "recorded_at": record.recorded_at.isoformat(),
              "period_start": period.start.isoformat()}
    status = "closed" if datetime.now(UTC) >= closes_at else store.count(marker, {
        "system": system, "subscription_id": record.subscription_id, "metric": record.metric,
        "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
        "closes_at": closes_at.isoformat(), "context": meter.__dict__})
    if status == "closed":
        reason = f"late: the period {period.start}..{period.end} closed at {closes_at.isoformat()}"
        if store.refuse_late(marker, reason):
            logger.warning("late usage refused", extra={"usage_id": record.id, "reason": reason,
                                                        "total": total_key(system, record.subscription_id,
                                                                           record.metric, period.start.isoformat())})
        return Outcome(id=record.id, status="refused", reason=reason, period_start=period.start.isoformat())
    return Outcome(id=record.id, status=status, period_start=period.start.isoformat())


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
