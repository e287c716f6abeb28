"""The one envelope every canonical event travels in. Its ids are derived in erphub.event_ids (re-exported here)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erphub.canonical.business import (
    Account,
    CancellationRequest,
    Contract,
    Invoice,
    OnboardingMilestone,
    Payment,
    RenewalRisk,
    Subscription,
    UsageRecord,
    WorkflowOutcome,
)
from erphub.event_ids import correlation_id_for as correlation_id_for
from erphub.event_ids import event_id_for as event_id_for

SCHEMA_VERSION = "1.0"


class EventType(StrEnum):
    OPPORTUNITY_CLOSED_WON = "crm.opportunity.closed_won"
    OPPORTUNITY_AMENDED = "crm.opportunity.amended"
    OPPORTUNITY_RENEWED = "crm.opportunity.renewed"
    OPPORTUNITY_CLOSED_LOST = "crm.opportunity.closed_lost"
    ACCOUNT_UPDATED = "crm.account.updated"
    SUBSCRIPTION_CREATED = "billing.subscription.created"
    SUBSCRIPTION_UPDATED = "billing.subscription.updated"
    SUBSCRIPTION_CANCELED = "billing.subscription.canceled"
    INVOICE_FINALIZED = "billing.invoice.finalized"
    INVOICE_PAID = "billing.invoice.paid"
    PAYMENT_SUCCEEDED = "billing.payment.succeeded"
    PAYMENT_FAILED = "billing.payment.failed"
    USAGE_RECORDED = "billing.usage.recorded"
    RENEWAL_RISK_CHANGED = "success.renewal_risk.changed"
    ONBOARDING_MILESTONE_COMPLETED = "success.onboarding.milestone_completed"
    CANCELLATION_REQUESTED = "success.cancellation.requested"
    # events of record, emitted by the workflows (source "erphub")
    ACTIVATION_COMPLETED = "activation.completed"
    ACTIVATION_FAILED = "activation.failed"
    AMENDMENT_COMPLETED = "amendment.completed"
    AMENDMENT_FAILED = "amendment.failed"
    AMENDMENT_REFUSED = "amendment.refused"
    RENEWAL_COMPLETED = "renewal.completed"
    RENEWAL_FAILED = "renewal.failed"
    CANCELLATION_COMPLETED = "cancellation.completed"
    CANCELLATION_FAILED = "cancellation.failed"


DATA_KIND_BY_TYPE: dict[EventType, str] = {
    EventType.OPPORTUNITY_CLOSED_WON: "contract",
    EventType.OPPORTUNITY_AMENDED: "contract",
    EventType.OPPORTUNITY_RENEWED: "contract",
    EventType.OPPORTUNITY_CLOSED_LOST: "contract",
    EventType.ACCOUNT_UPDATED: "account",
    EventType.SUBSCRIPTION_CREATED: "subscription",
    EventType.SUBSCRIPTION_UPDATED: "subscription",
    EventType.SUBSCRIPTION_CANCELED: "subscription",
    EventType.INVOICE_FINALIZED: "invoice",
    EventType.INVOICE_PAID: "invoice",
    EventType.PAYMENT_SUCCEEDED: "payment",
    EventType.PAYMENT_FAILED: "payment",
    EventType.USAGE_RECORDED: "usage",
    EventType.RENEWAL_RISK_CHANGED: "renewal_risk",
    EventType.ONBOARDING_MILESTONE_COMPLETED: "onboarding_milestone",
    EventType.CANCELLATION_REQUESTED: "cancellation_request",
    **{t: "workflow_outcome" for t in (
        EventType.ACTIVATION_COMPLETED, EventType.ACTIVATION_FAILED, EventType.AMENDMENT_COMPLETED,
        EventType.AMENDMENT_FAILED, EventType.AMENDMENT_REFUSED, EventType.RENEWAL_COMPLETED,
        EventType.RENEWAL_FAILED, EventType.CANCELLATION_COMPLETED, EventType.CANCELLATION_FAILED)},
}

DataModel = (Contract | Account | Subscription | Invoice | Payment | UsageRecord | RenewalRisk | OnboardingMilestone
             | CancellationRequest | WorkflowOutcome)
EventData = Annotated[DataModel, Field(discriminator="kind")]


# the models `data` can hold, by their `kind`
DATA_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["kind"].default: model
    for model in (Contract, Account, Subscription, Invoice, Payment, UsageRecord, RenewalRisk, OnboardingMilestone,
                  CancellationRequest, WorkflowOutcome)
}


class EnvelopeHeader(BaseModel):
    """Every field of the envelope but its data. Validated on its own by `EventEnvelope.of`."""

    # defer_build: a model's validator is built at its first use, so a function builds only the models it uses
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True, defer_build=True)

    event_id: str
    type: EventType
    source: str = Field(description="the inbound source, e.g. stripe, salesforce")
    source_event_id: str
    occurred_at: datetime
    correlation_id: str
    business_key: str
    version: str = Field(default="0", description="orders events of one business key (contract version, vendor time)")
    schema_version: str = SCHEMA_VERSION


class EventEnvelope(EnvelopeHeader):
    """A canonical business event. `business_key` + `version` name the workflow execution it may start."""

    data: EventData

    @model_validator(mode="after")
    def _data_matches_type(self) -> EventEnvelope:
        expected = DATA_KIND_BY_TYPE[EventType(self.type)]
        if self.data.kind != expected:
            raise ValueError(f"event type {self.type} carries {expected} data, not {self.data.kind}")
        return self

    @classmethod
    def of(cls, data: DataModel, **header: Any) -> EventEnvelope:
        """The envelope of an already validated data model, validated as the constructor would: the header by
        its own model, the data by its kind. Unlike the constructor it does not build the validator of the whole
        `data` union (every canonical model, ~6 ms of CPU on a cold start) to check one instance's class."""
        fields = EnvelopeHeader.model_validate(header)
        kind = DATA_KIND_BY_TYPE[EventType(fields.type)]
        if type(data) is not DATA_MODELS[kind]:  # a dict, a subclass, another kind: the constructor decides
            return cls(**header, data=data)
        # __dict__: the validated values as the model keeps them (no extras: extra="forbid"); dict(fields) iterates
        return cls.model_construct(_fields_set=fields.model_fields_set | {"data"}, **fields.__dict__, data=data)

    def to_json(self) -> str:
        """Exactly `model_dump_json()`, written by the header's and the data's own serializers: the envelope's
        serializer would build the validators and serializers of the whole data union first (see `of`). The
        header's serializer takes the envelope itself (a subclass: it writes the header's fields only)."""
        header = EnvelopeHeader.__pydantic_serializer__.to_json(self).decode()
        return f'{header[:-1]},"data":{self.data.model_dump_json()}}}'
