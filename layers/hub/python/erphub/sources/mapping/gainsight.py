"""Gainsight signals into canonical customer-success events: GainsightSource.normalize's mapping.

A module of its own, imported only when an event is normalized, so the webhook's ack path (verify, parse,
acknowledge) imports no pydantic. The body's fields, the risk levels and the correlation are documented in
erphub.sources.gainsight.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.canonical import EventEnvelope, EventType, RenewalRisk
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c
from erphub.sources.mapping import success_signals as signals

NAME = "gainsight"

_TYPES = {
    "renewal_risk_changed": EventType.RENEWAL_RISK_CHANGED,
    "onboarding_milestone_completed": EventType.ONBOARDING_MILESTONE_COMPLETED,
    "cancellation_requested": EventType.CANCELLATION_REQUESTED,
}
_RISK = {"low": "low", "medium": "medium", "moderate": "medium", "high": "high", "critical": "high"}


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
    kind = _TYPES.get(event.vendor_type)
    if kind is None:
        return None
    body, record = event.payload, event.vendor_event_id
    company = body["company"]
    gsid = str(c.require(company.get("gsid"), "company.gsid", NAME, record))
    external_ids = {NAME: gsid, **{k: str(v) for k, v in (company.get("externalIds") or {}).items() if v}}
    if company.get("sfdcAccountId"):
        external_ids["salesforce"] = str(company["sfdcAccountId"])
    occurred_at = c.require(c.parse_datetime(body.get("occurredAt")), "occurredAt", NAME, record)
    data: Any
    if kind == EventType.RENEWAL_RISK_CHANGED:
        score = c.decimal(body.get("healthScore"), field="healthScore", system=NAME)
        data = RenewalRisk(
            account_id=gsid, account_name=company.get("name"), external_ids=external_ids,
            risk_level=_risk_level(body.get("riskLevel"), score, record),
            health_score=score,
            previous_health_score=c.decimal(body.get("previousHealthScore"), field="previousHealthScore",
                                            system=NAME),
            reason=body.get("reason"), renewal_date=c.parse_date(body.get("renewalDate")),
        )
    else:
        data = signals.lifecycle(kind, body, gsid, external_ids, occurred_at, NAME, record)
    correlation = signals.account_correlation("salesforce", external_ids.get("salesforce"), NAME, gsid)
    return c.envelope(
        source=NAME, vendor_event_id=record, type=kind, occurred_at=occurred_at, correlation_id=correlation,
        business_key=gsid, version=c.epoch_version(occurred_at), data=data,
    )


def _risk_level(level: Any, score: Decimal | None, record: str) -> str:
    return signals.risk_level(level, _RISK, score, NAME, record, "riskLevel or healthScore")
