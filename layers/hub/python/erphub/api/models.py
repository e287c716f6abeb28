"""The v1 contract of the synchronous API: request and response models (the OpenAPI document is generated from
these). Adding an optional request field or a response field is compatible; removing or renaming a field, making
a field required or narrowing a type is not, and goes to /api/v2 (docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from erphub.canonical import BillingFrequency, LegalEntity

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True, use_enum_values=True)


class Address(Request):
    country: Country
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    state: Annotated[str, StringConstraints(max_length=50)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    line1: Annotated[str, StringConstraints(max_length=200)] | None = None


class AccountInput(Request):
    """A CRM account as the caller knows it: its id in the CRM and/or the keys that identify it."""

    account_id: Text | None = Field(default=None, description="the CRM account id")
    name: Text | None = None
    domain: Text | None = None
    tax_id: Text | None = None
    currency: Currency | None = Field(default=None, description="the currency the account is billed in")
    billing_address: Address | None = None
    legal_entities: Annotated[list[LegalEntity], Field(max_length=50)] = Field(default_factory=list)
    external_ids: dict[str, Text] = Field(default_factory=dict, description="other systems' ids, by system")


# --- accounts/validate ------------------------------------------------------------------------------
class RuleViolation(Answer):
    rule: str = Field(description="the data-quality rule, e.g. tax_id_required")
    field: str = Field(description="the request field it is about, e.g. legal_entities[0].tax_id")
    message: str


class IdentityConflict(Answer):
    candidates: list[str] = Field(description="the hub customers the account could be")
    reason: str


class AccountValidation(Answer):
    valid: bool = Field(description="resolved to at most one customer and no data-quality rule failed")
    resolution: Literal["resolved", "new", "conflict"]
    customer_id: str | None = Field(default=None, description="the hub's customer id when resolved")
    matched_by: str | None = Field(default=None, description="xref:<system> or key:<domain|tax_id>")
    systems: dict[str, str] = Field(default_factory=dict, description="system (or system/entity) -> its id")
    conflicts: list[IdentityConflict] = Field(default_factory=list)
    violations: list[RuleViolation] = Field(default_factory=list)


# --- quotes/price -----------------------------------------------------------------------------------
class UsageInput(Request):
    metric: Text
    unit: Text = "unit"
    included_quantity: Money = Decimal(0)
    overage_unit_price: Money | None = Field(default=None, description="the catalog's if omitted")


class QuoteLine(Request):
    sku: Text
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)] = Decimal(1)
    term_months: Annotated[StrictInt, Field(ge=1, le=120)] = 12
    billing_frequency: BillingFrequency = BillingFrequency.ANNUAL
    usage: UsageInput | None = None
    currency: Currency | None = Field(default=None, description="the quote's currency if omitted")
    legal_entity_id: Text | None = Field(default=None, description="the quote's first legal entity if omitted")


class QuoteInput(Request):
    currency: Currency
    account: AccountInput | None = None
    lines: Annotated[list[QuoteLine], Field(min_length=1, max_length=100)]


class Overage(Answer):
    metric: str
    unit: str
    included_quantity: Decimal
    overage_unit_price: Decimal | None


class PricedLine(Answer):
    line: int = Field(description="index of the line in the request")
    sku: str
    sellable: bool
    reasons: list[str] = Field(default_factory=list, description="why the line cannot be sold as quoted")
    currency: str
    legal_entity_id: str | None = None
    billing_frequency: str
    unit_price: Decimal | None = Field(default=None, description="per unit and billing period")
    periods: int = Field(description="billing periods in the term")
    extended_price: Decimal | None = Field(default=None, description="unit price x quantity x periods")
    overage: Overage | None = None


class Total(Answer):
    legal_entity_id: str | None
    currency: str
    amount: Decimal


class PricedQuote(Answer):
    sellable: bool
    lines: list[PricedLine]
    totals: list[Total] = Field(description="per legal entity and currency; only sellable lines count")
    price_source: str = Field(description="the billing system whose catalog priced the lines")


# --- quotes (approval) --------------------------------------------------------------------------------
class QuoteSubmission(QuoteInput):
    quote_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")]
    account: AccountInput
    non_standard_terms: StrictBool = False


class QuoteStatus(Answer):
    quote_id: str
    state: Literal["needs_fixes", "pending_approval", "approved", "rejected"]
    reasons: list[str] = Field(default_factory=list, description="why approval is needed, or why it was decided")
    violations: list[RuleViolation] = Field(default_factory=list)
    amount: Decimal | None = None
    currency: str
    exception_id: str | None = Field(default=None, description="the approval request operators decide on")
    decided_by: str | None = None
    submitted_at: datetime
    updated_at: datetime


# --- tax/calculate ------------------------------------------------------------------------------------
class TaxLine(Request):
    sku: Text
    amount: Money = Field(description="the line's price before tax, in major units")
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)] = Decimal(1)
    legal_entity_id: Text | None = None
    tax_code: Text | None = Field(default=None, description="the product's if omitted")


class TaxRequest(Request):
    currency: Currency
    ship_to: Address
    customer_tax_id: Text | None = None
    legal_entities: Annotated[list[LegalEntity], Field(max_length=50)] = Field(default_factory=list)
    lines: Annotated[list[TaxLine], Field(min_length=1, max_length=100)]


class TaxedLine(Answer):
    line: int
    sku: str
    legal_entity_id: str | None
    amount: Decimal
    tax_code: str
    tax_amount: Decimal
    rate_percent: Decimal | None = None


class TaxTotal(Answer):
    legal_entity_id: str | None
    currency: str
    amount: Decimal
    tax: Decimal
    total: Decimal


class TaxCalculation(Answer):
    engine: str = Field(description="stripe_tax (the billing vendor's calculation) or erp_tax_codes")
    reference: str | None = Field(default=None, description="the engine's calculation id, e.g. taxcalc_...")
    lines: list[TaxedLine]
    totals: list[TaxTotal]


# --- status lookups -----------------------------------------------------------------------------------
class SystemRecord(Answer):
    system: str
    kind: str
    id: str
    legal_entity_id: str | None = None
    state: str | None = None


class WorkflowState(Answer):
    correlation_id: str
    workflow: str | None = None
    status: str
    step: str | None = None
    reason: str | None = None
    updated_at: str | None = None


class OpenException(Answer):
    exception_id: str
    kind: str
    reason: str
    opened_at: str


class StatusLookup(Answer):
    kind: Literal["customer", "contract", "order", "invoice", "workflow"]
    id: str
    state: str = Field(description="the hub's view: e.g. active, running, posted, waiting, unknown")
    customer_id: str | None = None
    systems: list[SystemRecord] = Field(default_factory=list)
    workflow: WorkflowState | None = None
    workflows: list[WorkflowState] = Field(default_factory=list, description="every run the record took part in")
    open_exceptions: list[OpenException] = Field(default_factory=list)


class ErrorBody(Answer):
    """The error contract, the same as the webhooks' plus a machine-readable code and the correlation id."""

    error: str = Field(description="the error type, e.g. NotFound")
    message: str
    code: str = Field(description="machine-readable, stable: e.g. not_found, request_invalid, rate_limited")
    correlation_id: str
