"""Totango signals into canonical customer-success events: TotangoSource.normalize's mapping.

A module of its own, imported only when an event is normalized, so the webhook's ack path (verify, parse,
acknowledge) imports no pydantic. The body's fields, the risk levels and the correlation are documented in
erphub.sources.totango.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.canonical import EventEnvelope, EventType, RenewalRisk
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c
from erphub.sources.mapping import success_signals as signals

NAME = "totango"
CRM_SYSTEMS = ("salesforce", "hubspot")

_TYPES = {
    "health_changed": EventType.RENEWAL_RISK_CHANGED,
    "renewal_risk_changed": EventType.RENEWAL_RISK_CHANGED,
    "onboarding_milestone_completed": EventType.ONBOARDING_MILESTONE_COMPLETED,
    "cancellation_requested": EventType.CANCELLATION_REQUESTED,
}
_HEALTH = {"poor": "high", "average": "medium", "good": "low", "high": "high", "medium": "medium", "low": "low"}


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
    kind = _TYPES.get(event.vendor_type)
    if kind is None:
        return None
    body, record = event.payload, event.vendor_event_id
    account = body["account"]
    totango_id = str(c.require(account.get("id"), "account.id", NAME, record))
    external_ids = {NAME: totango_id}
    crm = str(account.get("crmSystem") or "salesforce").lower()
    if account.get("crmAccountId") and crm in CRM_SYSTEMS:
        external_ids[crm] = str(account["crmAccountId"])
    occurred_at = c.require(c.parse_datetime(body.get("occurredAt")), "occurredAt", NAME, record)
    data: Any
    if kind == EventType.RENEWAL_RISK_CHANGED:
        data = _risk(body, totango_id, account.get("name"), external_ids, record)
    else:
        data = signals.lifecycle(kind, body, totango_id, external_ids, occurred_at, NAME, record)
    correlation = signals.account_correlation(crm, external_ids.get(crm), NAME, totango_id)
    return c.envelope(source=NAME, vendor_event_id=record, type=kind, occurred_at=occurred_at,
                      correlation_id=correlation, business_key=totango_id, version=c.epoch_version(occurred_at),
                      data=data)


def _risk(body: dict[str, Any], totango_id: str, name: Any, external_ids: dict[str, str], record: str) -> RenewalRisk:
    health: dict[str, Any] = body["health"] if isinstance(body.get("health"), dict) else {}
    score = c.decimal(body.get("score"), field="score", system=NAME)
    return RenewalRisk(
        account_id=totango_id, account_name=name, external_ids=external_ids,
        risk_level=_risk_level(health.get("current") or body.get("riskLevel"), score, record), health_score=score,
        previous_health_score=c.decimal(body.get("previousScore"), field="previousScore", system=NAME),
        reason=health.get("reason") or body.get("reason"), renewal_date=c.parse_date(body.get("renewalDate")))


def _risk_level(level: Any, score: Decimal | None, record: str) -> str:
    return signals.risk_level(level, _HEALTH, score, NAME, record, "health.current or score")
