"""What the customer-success sources (Gainsight, Totango) share: a shared-token header, a JSON signal with an
`eventType` and one subject object, and the canonical milestone/cancellation/risk shapes they map to.

Neither vendor signs its outbound webhooks (see each source's docstring); the hub's convention for both is a
secret token header compared in constant time against both active secrets.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from erphub.canonical import CancellationRequest, EventType, OnboardingMilestone, correlation_id_for
from erphub.errors import AuthenticationFailed, BadEnvelope
from erphub.sources import _common as c
from erphub.sources.inbound import InboundRequest, SourceCredentials, VendorEvent, any_equal


def verify_token(request: InboundRequest, credentials: SourceCredentials, header: str, system: str) -> None:
    token = request.headers.get(header, "")
    if not token:
        raise AuthenticationFailed(f"{system}: no {header} header", system=system)
    if not any_equal(token, credentials.active):
        raise AuthenticationFailed(f"{system}: {header} is not an active token", system=system)


def parse_signal(request: InboundRequest, system: str, subject: str) -> list[VendorEvent]:
    """One signal per request; without an `eventId` the body's hash identifies it (a resend is a duplicate)."""
    body = c.load_json(request.body, system)
    if not isinstance(body, dict) or not body.get("eventType") or not isinstance(body.get(subject), dict):
        raise BadEnvelope(f"{system}: payload has no eventType or {subject} object", system=system)
    if not isinstance(body["eventType"], str) or not isinstance(body.get("eventId") or "", str | int):
        raise BadEnvelope(f"{system}: eventType must be a string, eventId a string or number", system=system)
    event_id = body.get("eventId") or "sha256:" + hashlib.sha256(request.body).hexdigest()
    return [VendorEvent(str(event_id), str(body["eventType"]).strip().lower(), body, request.body)]


def lifecycle(kind: EventType, body: dict[str, Any], account_id: str, external_ids: dict[str, str],
              occurred_at: datetime, system: str, record: str) -> OnboardingMilestone | CancellationRequest:
    """The milestone or cancellation a signal reports (both vendors name these fields alike)."""
    if kind == EventType.ONBOARDING_MILESTONE_COMPLETED:
        return OnboardingMilestone(
            account_id=account_id, external_ids=external_ids,
            milestone=c.require(body.get("milestone"), "milestone", system, record),
            completed_at=c.parse_datetime(body.get("completedAt")) or occurred_at)
    return CancellationRequest(
        account_id=account_id, external_ids=external_ids, contract_id=body.get("contractId"),
        subscription_id=body.get("subscriptionId"), effective=(body.get("effective") or "at_period_end").lower(),
        reason=body.get("reason"), requested_by=body.get("requestedBy"))


def risk_level(label: Any, names: dict[str, str], score: Decimal | None, system: str, record: str,
               fields: str) -> str:
    """The vendor's own label when it names a level, else the health score: < 50 high, < 75 medium."""
    if label:
        mapped = names.get(str(label).strip().lower())
        if mapped:
            return mapped
    if score is None:
        return c.require(None, f"{fields} (got {label!r})", system, record)
    return "high" if score < 50 else "medium" if score < 75 else "low"


def account_correlation(crm: str, crm_account: str | None, system: str, account_id: str) -> str:
    """The CRM account when the signal names one (so it joins the deal's story), else the vendor's account."""
    if crm_account:
        return correlation_id_for("account", crm, crm_account)
    return correlation_id_for("account", system, account_id)
