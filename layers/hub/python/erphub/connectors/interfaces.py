"""One interface per kind of system, with the operations the customer-to-cash workflows need.

Every create takes an `idempotency_key` (callers derive it from correlation id + step, DESIGN.md rule 6):
the same create twice yields one record. Every operation raises only the typed errors of erphub.errors.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from erphub.canonical import Account, BillingFrequency, Invoice, Subscription, SubscriptionItem


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class RecordRef(Model):
    """A record in a vendor's system: its own id, and the external id / key we addressed it by."""

    system: str
    kind: str
    id: str
    external_id: str | None = None
    created: bool | None = Field(default=None, description="True if this call created it, None if unknown")


# --- CRM -------------------------------------------------------------------------------------------
class AccountUpdate(Model):
    """CRM account fields the hub writes; None means "leave as is"."""

    lifecycle_status: str | None = None
    external_ids: dict[str, str] = Field(default_factory=dict, description="other systems' ids, by system")
    renewal_risk: Literal["low", "medium", "high"] | None = None
    health_score: Decimal | None = None
    account_plan: str | None = None


class OwnerTask(Model):
    subject: str
    description: str | None = None
    due_date: date | None = None
    owner_id: str | None = Field(default=None, description="the owner's user id; the account owner if None")
    priority: Literal["low", "normal", "high"] = "normal"


@runtime_checkable
class CrmSystem(Protocol):
    system: str

    def get_account(self, account_id: str) -> dict[str, Any]: ...
    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]: ...
    def find_account(self, account: Account) -> str | None: ...
    def upsert_account(self, account: Account, *, idempotency_key: str) -> RecordRef: ...
    def update_account(self, account_id: str, update: AccountUpdate) -> None: ...
    def create_task(self, account_id: str, task: OwnerTask, *, idempotency_key: str) -> RecordRef: ...
    def update_opportunity(self, opportunity_id: str, fields: dict[str, Any]) -> None: ...


# --- Billing ---------------------------------------------------------------------------------------
class BillingCustomer(Model):
    customer_key: str = Field(description="our key for the customer (account id + legal entity)")
    name: str
    email: str | None = None
    currency: str | None = None
    country: str | None = None
    legal_entity_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class NewSubscription(Model):
    """One subscription per legal entity; items carry quantities and, for usage, metered prices."""

    customer_id: str = Field(description="the billing system's customer id")
    items: list[SubscriptionItem]
    billing_frequency: BillingFrequency = BillingFrequency.ANNUAL
    currency: str = "USD"
    start_date: date | None = None
    legal_entity_id: str | None = None
    contract_id: str | None = None


class SubscriptionChange(Model):
    quantities: dict[str, Decimal] = Field(default_factory=dict, description="sku -> new quantity")
    add_items: list[SubscriptionItem] = Field(default_factory=list)
    billing_frequency: BillingFrequency | None = None
    prorate: bool = True


class CollectionStrategy(Model):
    method: Literal["charge_automatically", "send_invoice"] = "charge_automatically"
    days_until_due: int | None = Field(default=None, ge=0)
    dunning: bool = True


@runtime_checkable
class BillingSystem(Protocol):
    system: str

    def upsert_customer(self, customer: BillingCustomer, *, idempotency_key: str) -> RecordRef: ...
    def create_subscription(self, request: NewSubscription, *, idempotency_key: str) -> RecordRef: ...
    def change_subscription(
        self, subscription_id: str, change: SubscriptionChange, *, idempotency_key: str
    ) -> None: ...
    def cancel_subscription(
        self, subscription_id: str, *, at_period_end: bool = True, idempotency_key: str
    ) -> None: ...
    def get_subscription(self, subscription_id: str) -> Subscription: ...
    def set_collection(self, customer_id: str, strategy: CollectionStrategy, *, idempotency_key: str) -> None: ...
    def list_invoices(self, customer_id: str) -> list[Invoice]: ...


# --- Customer success ------------------------------------------------------------------------------
class Milestone(Model):
    name: str
    due_date: date | None = None


class OnboardingPlan(Model):
    name: str
    milestones: list[Milestone] = Field(default_factory=list)
    owner_email: str | None = None


@runtime_checkable
class SuccessSystem(Protocol):
    system: str

    def upsert_company(self, account: Account, *, idempotency_key: str) -> RecordRef: ...
    def create_onboarding_plan(self, company_id: str, plan: OnboardingPlan, *, idempotency_key: str) -> RecordRef: ...
    def set_health(
        self, company_id: str, *, risk_level: str, health_score: Decimal | None = None, reason: str | None = None,
        adoption: dict[str, Any] | None = None,
    ) -> None:
        """The hub's health view of the company; `adoption`: adoption plan fields written in the same update."""
    def update_adoption_plan(self, company_id: str, fields: dict[str, Any]) -> None: ...
    def start_offboarding(self, company_id: str, *, reason: str | None, idempotency_key: str) -> RecordRef: ...


# --- ERP -------------------------------------------------------------------------------------------
class ErpCustomer(Model):
    external_id: str = Field(description="our key: account id + legal entity; the ERP upserts by it")
    name: str
    subsidiary: str | None = None
    currency: str | None = None
    email: str | None = None
    tax_id: str | None = None
    country: str | None = None


class OrderLine(Model):
    sku: str
    quantity: Decimal = Decimal(1)
    rate: Decimal
    description: str | None = None
    tax_code: str | None = None
    rev_rec_start: date | None = None
    rev_rec_end: date | None = None


class SalesOrder(Model):
    customer_external_id: str
    currency: str
    lines: list[OrderLine]
    subsidiary: str | None = None
    tran_date: date | None = None
    billing_schedule: str | None = Field(default=None, description="the ERP's billing schedule name/id")
    memo: str | None = None
    contract_id: str | None = None


class ErpInvoice(Model):
    customer_external_id: str
    currency: str
    lines: list[OrderLine]
    sales_order_external_id: str | None = None
    tran_date: date | None = None
    due_date: date | None = None
    memo: str | None = None


class ErpPayment(Model):
    customer_external_id: str
    amount: Decimal
    currency: str
    invoice_external_id: str | None = None
    tran_date: date | None = None
    memo: str | None = None


class CreditMemo(Model):
    customer_external_id: str
    currency: str
    lines: list[OrderLine]
    invoice_external_id: str | None = None
    reason: str | None = None


class Forecast(Model):
    external_id: str
    customer_external_id: str
    period: str = Field(description="e.g. 2025-Q3")
    amount: Decimal
    currency: str
    probability: Decimal | None = None


@runtime_checkable
class ErpSystem(Protocol):
    system: str

    def upsert_customer(self, customer: ErpCustomer) -> RecordRef: ...
    def create_sales_order(self, order: SalesOrder, *, idempotency_key: str) -> RecordRef: ...
    def amend_sales_order(self, external_id: str, order: SalesOrder) -> RecordRef: ...
    def close_sales_order(self, external_id: str) -> None: ...
    def void_sales_order(self, external_id: str) -> None: ...
    def post_invoice(self, invoice: ErpInvoice, *, idempotency_key: str) -> RecordRef: ...
    def post_payment(self, payment: ErpPayment, *, idempotency_key: str) -> RecordRef: ...
    def issue_credit_memo(self, memo: CreditMemo, *, idempotency_key: str) -> RecordRef: ...
    def update_forecast(self, forecast: Forecast) -> RecordRef: ...
    def concurrency_limit(self) -> int | None: ...
