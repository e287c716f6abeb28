"""Canonical business objects and the versioned event envelope. Pure: no I/O.

The event and correlation ids live in erphub.event_ids (importing this package builds the models); they are
re-exported here so existing imports keep working.
"""

from erphub.canonical.business import (
    Account,
    BillingFrequency,
    CancellationRequest,
    Contract,
    Customer,
    Invoice,
    InvoiceLine,
    LegalEntity,
    OnboardingMilestone,
    Payment,
    Product,
    RenewalRisk,
    Subscription,
    SubscriptionItem,
    UsageRecord,
    UsageTerms,
    WorkflowOutcome,
)
from erphub.canonical.envelope import (
    DATA_KIND_BY_TYPE,
    SCHEMA_VERSION,
    EventData,
    EventEnvelope,
    EventType,
)
from erphub.event_ids import correlation_id_for, event_id_for

__all__ = [
    "DATA_KIND_BY_TYPE",
    "SCHEMA_VERSION",
    "Account",
    "BillingFrequency",
    "CancellationRequest",
    "Contract",
    "Customer",
    "EventData",
    "EventEnvelope",
    "EventType",
    "Invoice",
    "InvoiceLine",
    "LegalEntity",
    "OnboardingMilestone",
    "Payment",
    "Product",
    "RenewalRisk",
    "Subscription",
    "SubscriptionItem",
    "UsageRecord",
    "UsageTerms",
    "WorkflowOutcome",
    "correlation_id_for",
    "event_id_for",
]
