"""The canonical milestone, cancellation and risk shapes the customer-success sources (Gainsight, Totango) map to.

Imported only by their mappings, so the webhook's ack path (verify, parse, acknowledge) imports no pydantic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from erphub.canonical import CancellationRequest, EventType, OnboardingMilestone
from erphub.event_ids import correlation_id_for
from erphub.sources.mapping import _common as c


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
