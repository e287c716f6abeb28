"""Totango SuccessPlay webhooks ("call a webhook" action): a shared token header and customer-success signals.

Totango documents no signature for the webhooks its SuccessPlays call (tests/contracts/totango/api.json lists
what was and was not found); the action sends the headers and JSON body the admin configures. The hub's
convention: header `X-Totango-Token: <secret>`, compared in constant time against both active secrets.

The body, mapped from the play's account attributes:
  {"eventId": unique per signal (optional, else a hash of the body),
   "eventType": "health_changed" | "renewal_risk_changed" | "onboarding_milestone_completed"
                | "cancellation_requested",
   "occurredAt": ISO 8601,
   "account": {"id": the Totango account id, "name", "crmAccountId", "crmSystem": salesforce | hubspot},
   health / renewal risk: "health": {"current": Good | Average | Poor, "previous", "reason"}, "score",
                          "previousScore", "renewalDate"; Poor -> high, Average -> medium, Good -> low
                          (Totango's health values); without a health value the score decides as for Gainsight;
   milestone:    "milestone", "completedAt";
   cancellation: "contractId", "subscriptionId", "effective" (at_period_end | immediately), "reason",
                 "requestedBy"}
Business key: the Totango account id. Correlation: the CRM account (account:<crm>:<id>) when mapped.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from erphub.canonical import (
    CancellationRequest,
    EventEnvelope,
    EventType,
    OnboardingMilestone,
    RenewalRisk,
    correlation_id_for,
)
from erphub.errors import AuthenticationFailed, BadEnvelope
from erphub.sources import _common as c
from erphub.sources.base import InboundRequest, SourceCredentials, VendorEvent, any_equal

NAME = "totango"
TOKEN_HEADER = "X-Totango-Token"  # noqa: S105 - a header name, not a secret
CRM_SYSTEMS = ("salesforce", "hubspot")

_TYPES = {
    "health_changed": EventType.RENEWAL_RISK_CHANGED,
    "renewal_risk_changed": EventType.RENEWAL_RISK_CHANGED,
    "onboarding_milestone_completed": EventType.ONBOARDING_MILESTONE_COMPLETED,
    "cancellation_requested": EventType.CANCELLATION_REQUESTED,
}
_HEALTH = {"poor": "high", "average": "medium", "good": "low", "high": "high", "medium": "medium", "low": "low"}


class TotangoSource:
    name = NAME

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        token = request.headers.get(TOKEN_HEADER, "")
        if not token:
            raise AuthenticationFailed(f"totango: no {TOKEN_HEADER} header", system=NAME)
        if not any_equal(token, credentials.active):
            raise AuthenticationFailed(f"totango: {TOKEN_HEADER} is not an active token", system=NAME)

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        body = c.load_json(request.body, NAME)
        if not isinstance(body, dict) or not body.get("eventType") or not isinstance(body.get("account"), dict):
            raise BadEnvelope("totango: payload has no eventType or account object", system=NAME)
        if not isinstance(body["eventType"], str) or not isinstance(body.get("eventId") or "", str | int):
            raise BadEnvelope("totango: eventType must be a string, eventId a string or number", system=NAME)
        event_id = body.get("eventId") or "sha256:" + hashlib.sha256(request.body).hexdigest()
        return [VendorEvent(str(event_id), str(body["eventType"]).strip().lower(), body, request.body)]

    @c.mapping_guard(NAME)
    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
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
        elif kind == EventType.ONBOARDING_MILESTONE_COMPLETED:
            data = OnboardingMilestone(
                account_id=totango_id, external_ids=external_ids,
                milestone=c.require(body.get("milestone"), "milestone", NAME, record),
                completed_at=c.parse_datetime(body.get("completedAt")) or occurred_at)
        else:
            data = CancellationRequest(
                account_id=totango_id, external_ids=external_ids, contract_id=body.get("contractId"),
                subscription_id=body.get("subscriptionId"),
                effective=(body.get("effective") or "at_period_end").lower(),
                reason=body.get("reason"), requested_by=body.get("requestedBy"))
        crm_account = external_ids.get(crm)
        correlation = (correlation_id_for("account", crm, crm_account) if crm_account
                       else correlation_id_for("account", NAME, totango_id))
        return c.envelope(source=NAME, vendor_event_id=record, type=kind, occurred_at=occurred_at,
                          correlation_id=correlation, business_key=totango_id, version=c.epoch_version(occurred_at),
                          data=data)

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        return None


def _risk(body: dict[str, Any], totango_id: str, name: Any, external_ids: dict[str, str], record: str) -> RenewalRisk:
    health: dict[str, Any] = body["health"] if isinstance(body.get("health"), dict) else {}
    score = c.decimal(body.get("score"), field="score", system=NAME)
    return RenewalRisk(
        account_id=totango_id, account_name=name, external_ids=external_ids,
        risk_level=_risk_level(health.get("current") or body.get("riskLevel"), score, record), health_score=score,
        previous_health_score=c.decimal(body.get("previousScore"), field="previousScore", system=NAME),
        reason=health.get("reason") or body.get("reason"), renewal_date=c.parse_date(body.get("renewalDate")))


def _risk_level(level: Any, score: Decimal | None, record: str) -> str:
    if level:
        mapped = _HEALTH.get(str(level).strip().lower())
        if mapped:
            return mapped
    if score is None:
        return c.require(None, f"health.current (got {level!r}) or score", NAME, record)
    return "high" if score < 50 else "medium" if score < 75 else "low"


source = TotangoSource()
