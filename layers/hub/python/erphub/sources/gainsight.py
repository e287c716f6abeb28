"""Gainsight Rules Engine "Call External API" actions: a shared token header and customer-success signals.

Gainsight does not sign outbound calls; the custom connector behind the rule's external action sends a
header the admin configures. The hub's convention: header `X-Gainsight-Token: <secret>`, compared in constant
time against both active secrets (rotate by adding the new value as `current` and the old as `previous`).

The body is the action's JSON payload, whose keys the admin maps from the rule's dataset. The hub expects:
  {"eventId": unique per signal (e.g. the Scorecard Fact GSID + modified date; optional, else a hash of the
               body so a retried call is still a duplicate),
   "eventType": "renewal_risk_changed" | "onboarding_milestone_completed" | "cancellation_requested",
   "occurredAt": ISO 8601,
   "company": {"gsid", "name", "sfdcAccountId", "externalIds": {system: id}},
   renewal risk: "riskLevel" (Low/Medium/High/Critical), "healthScore", "previousHealthScore", "reason",
                 "renewalDate"; without riskLevel the score decides (< 50 high, < 75 medium, else low);
   milestone:    "milestone", "completedAt";
   cancellation: "contractId", "subscriptionId", "effective" (at_period_end | immediately), "reason",
                 "requestedBy"}
Business key: the Gainsight company GSID. Correlation: the CRM account when sfdcAccountId is mapped
(account:salesforce:<id>, the same id CRM events use), else account:gainsight:<gsid>.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.canonical import (
    EventEnvelope,
    EventType,
    RenewalRisk,
)
from erphub.sources import _common as c
from erphub.sources import success_signals as signals
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent

NAME = "gainsight"
TOKEN_HEADER = "X-Gainsight-Token"  # noqa: S105 - a header name, not a secret

_TYPES = {
    "renewal_risk_changed": EventType.RENEWAL_RISK_CHANGED,
    "onboarding_milestone_completed": EventType.ONBOARDING_MILESTONE_COMPLETED,
    "cancellation_requested": EventType.CANCELLATION_REQUESTED,
}
_RISK = {"low": "low", "medium": "medium", "moderate": "medium", "high": "high", "critical": "high"}


class GainsightSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        signals.verify_token(request, credentials, TOKEN_HEADER, NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        return signals.parse_signal(request, NAME, "company")

    @c.mapping_guard(NAME)
    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
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

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


def _risk_level(level: Any, score: Decimal | None, record: str) -> str:
    return signals.risk_level(level, _RISK, score, NAME, record, "riskLevel or healthScore")


source = GainsightSource()
