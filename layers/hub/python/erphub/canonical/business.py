"""Business objects as finance and revenue operations speak of them, independent of any vendor.

Money is Decimal in major units (vendors' minor units are converted by the sources); currencies are
ISO 4217 upper case; `external_ids` maps a system name ("salesforce", "stripe", "netsuite") to its id.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
SystemIds = dict[str, str]


class Model(BaseModel):
    # defer_build: a model's validator is built at its first use, so a function builds only the models it uses
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True, defer_build=True)


class BillingFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


class LegalEntity(Model):
    """A contracting entity of the customer; each is billed and booked in its own ERP subsidiary."""

    entity_id: str
    name: str
    country: str | None = None
    tax_id: str | None = None
    currency: Currency | None = None
    subsidiary: str | None = Field(default=None, description="ERP subsidiary / legal entity that books it")


class Customer(Model):
    kind: Literal["customer"] = "customer"
    customer_id: str = Field(description="id in the source system")
    name: str | None = None
    email: str | None = None
    domain: str | None = None
    tax_id: str | None = None
    country: str | None = None
    currency: Currency | None = None
    external_ids: SystemIds = Field(default_factory=dict)


class Account(Model):
    kind: Literal["account"] = "account"
    account_id: str = Field(description="CRM account id")
    name: str
    domain: str | None = None
    tax_id: str | None = None
    industry: str | None = None
    country: str | None = None
    owner_email: str | None = None
    lifecycle_status: str | None = None
    legal_entities: list[LegalEntity] = Field(default_factory=list)
    external_ids: SystemIds = Field(default_factory=dict)


class Product(Model):
    kind: Literal["product"] = "product"
    sku: str
    name: str | None = None
    family: str | None = Field(default=None, description="platform, module, usage, services")


class UsageTerms(Model):
    """How metered usage is charged: included units, then overage per unit, billed in arrears."""

    metric: str
    unit: str = "unit"
    included_quantity: Decimal = Decimal(0)
    overage_unit_price: Decimal
    billed_in_arrears: bool = True
    period: BillingFrequency | None = Field(
        default=None, description="the period the included quantity is for; the contract's billing frequency if None")
    currency: Currency | None = Field(
        default=None, description="currency of overage_unit_price; the deal's if None. An entity is billed and "
        "booked in its own currency, so its usage line states its price in it")

    def price_in(self, currency: str, deal_currency: str | None) -> Decimal:
        """The overage price in the currency an entity is billed in; no conversion is guessed."""
        stated = self.currency or deal_currency
        if stated is not None and stated != currency:
            raise ValueError(f"usage {self.metric} is priced in {stated}, the entity is billed in {currency}")
        return self.overage_unit_price


class SubscriptionItem(Model):
    sku: str
    name: str | None = None
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    usage: UsageTerms | None = None
    legal_entity_id: str | None = None


class Subscription(Model):
    kind: Literal["subscription"] = "subscription"
    subscription_id: str
    customer_id: str
    status: str
    currency: Currency | None = None
    billing_frequency: BillingFrequency | None = None
    items: list[SubscriptionItem] = Field(default_factory=list)
    start_date: date | None = None
    current_period_end: date | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    legal_entity_id: str | None = None
    contract_id: str | None = None
    external_ids: SystemIds = Field(default_factory=dict)


class Contract(Model):
    """A commercial agreement as the CRM records it: a closed-won, amended or renewed opportunity."""

    kind: Literal["contract"] = "contract"
    contract_id: str = Field(description="business key: the opportunity (or CRM contract) id")
    version: int = Field(ge=0, description="increases with each amendment; stale versions are refused")
    stage: str | None = None
    account: Account
    currency: Currency | None = None
    amount: Decimal | None = None
    billing_frequency: BillingFrequency | None = None
    term_start: date | None = None
    term_end: date | None = None
    term_months: int | None = None
    items: list[SubscriptionItem] = Field(default_factory=list)
    non_standard_terms: bool = False
    previous_contract_id: str | None = None
    close_date: date | None = None
    owner_email: str | None = None
    reason: str | None = Field(default=None, description="closed-lost or amendment reason")


class InvoiceLine(Model):
    description: str | None = None
    sku: str | None = None
    quantity: Decimal | None = None
    amount: Decimal


class Invoice(Model):
    kind: Literal["invoice"] = "invoice"
    invoice_id: str
    customer_id: str
    subscription_id: str | None = None
    number: str | None = None
    status: str
    currency: Currency
    total: Decimal
    amount_due: Decimal | None = None
    amount_paid: Decimal | None = None
    issued_at: datetime | None = None
    due_at: datetime | None = None
    lines: list[InvoiceLine] = Field(default_factory=list)


class Payment(Model):
    kind: Literal["payment"] = "payment"
    payment_id: str
    customer_id: str | None = None
    invoice_id: str | None = None
    amount: Decimal
    currency: Currency
    status: Literal["succeeded", "failed"]
    failure_reason: str | None = None
    paid_at: datetime | None = None


class UsageRecord(Model):
    kind: Literal["usage"] = "usage"
    record_id: str | None = Field(default=None, description="the vendor's usage-record id: usage is counted once by it")
    subscription_id: str | None = None
    customer_id: str | None = None
    metric: str
    quantity: Decimal
    recorded_at: datetime


class RenewalRisk(Model):
    kind: Literal["renewal_risk"] = "renewal_risk"
    account_id: str = Field(description="customer-success company id")
    account_name: str | None = None
    external_ids: SystemIds = Field(default_factory=dict)
    risk_level: Literal["low", "medium", "high"]
    health_score: Decimal | None = None
    previous_health_score: Decimal | None = None
    reason: str | None = None
    renewal_date: date | None = None


class OnboardingMilestone(Model):
    kind: Literal["onboarding_milestone"] = "onboarding_milestone"
    account_id: str
    external_ids: SystemIds = Field(default_factory=dict)
    milestone: str
    completed_at: datetime | None = None


class CancellationRequest(Model):
    kind: Literal["cancellation_request"] = "cancellation_request"
    account_id: str
    external_ids: SystemIds = Field(default_factory=dict)
    contract_id: str | None = None
    subscription_id: str | None = None
    effective: Literal["at_period_end", "immediately"] = "at_period_end"
    reason: str | None = None
    requested_by: str | None = None


class WorkflowOutcome(Model):
    """The event of record of a business transaction: how it ended, and what it left in each system."""

    kind: Literal["workflow_outcome"] = "workflow_outcome"
    workflow: Literal["activation", "amendment", "renewal", "cancellation"]
    status: Literal["completed", "failed", "refused"]
    business_key: str = Field(description="the contract (opportunity) or account the workflow acted on")
    contract_version: int | None = None
    customer_id: str | None = Field(default=None, description="the hub's customer id (identity resolution)")
    reason: str | None = Field(default=None, description="why it failed or was refused")
    failed_step: str | None = None
    compensated: list[str] = Field(default_factory=list, description="records undone, e.g. stripe:subscription:sub_1")
    records: SystemIds = Field(default_factory=dict, description="system (or system/entity) -> id it now holds")
    exception_id: str | None = Field(default=None, description="the operator exception that tells what happened")
