"""Stripe event objects into canonical billing events: the mapping behind erphub.sources.stripe's normalize.

A module of its own, imported only when an event is normalized, so the webhook's ack path (verify, parse,
acknowledge) imports no pydantic.

Routing: customer.subscription.created/updated/deleted, invoice.finalized, invoice.paid, invoice.payment_failed
(-> billing.payment.failed), payment_intent.succeeded/payment_failed; every other type is ignored. Correlation
prefers metadata["erphub_correlation_id"] (subscription, then invoice parent/subscription details, then
customer); the business key is the Stripe customer id.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from erphub.canonical import (
    EventEnvelope,
    EventType,
    Invoice,
    InvoiceLine,
    Payment,
    Subscription,
    SubscriptionItem,
    UsageTerms,
)
from erphub.event_ids import correlation_id_for
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c

NAME = "stripe"
CORRELATION_KEY = "erphub_correlation_id"
EPOCH = datetime.fromtimestamp(0, tz=UTC)  # an event without its `created` time

_SUBSCRIPTION_TYPES = {
    "customer.subscription.created": EventType.SUBSCRIPTION_CREATED,
    "customer.subscription.updated": EventType.SUBSCRIPTION_UPDATED,
    "customer.subscription.deleted": EventType.SUBSCRIPTION_CANCELED,
}
_INVOICE_TYPES = {"invoice.finalized": EventType.INVOICE_FINALIZED, "invoice.paid": EventType.INVOICE_PAID}


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
    obj: dict[str, Any] = event.payload["data"]["object"]
    occurred_at = c.from_epoch(event.payload.get("created")) or EPOCH
    if event.vendor_type in _SUBSCRIPTION_TYPES:
        data: Any = _subscription(obj, event.vendor_event_id)
        customer, correlation = data.customer_id, _correlation(obj, "subscription", obj.get("id"))
        kind = _SUBSCRIPTION_TYPES[event.vendor_type]
    elif event.vendor_type in _INVOICE_TYPES:
        data = _invoice(obj, event.vendor_event_id)
        customer, correlation = data.customer_id, _invoice_correlation(obj)
        kind = _INVOICE_TYPES[event.vendor_type]
    elif event.vendor_type == "invoice.payment_failed":
        data = _invoice_payment_failure(obj, event.vendor_event_id)
        customer, correlation = data.customer_id, _invoice_correlation(obj)
        kind = EventType.PAYMENT_FAILED
    elif event.vendor_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        data = _payment_intent(obj, event.vendor_event_id, occurred_at)
        customer = data.customer_id
        correlation = _correlation(obj, "customer", c.require(customer, "payment intent customer", NAME))
        kind = EventType.PAYMENT_SUCCEEDED if data.status == "succeeded" else EventType.PAYMENT_FAILED
    else:
        return None
    return c.envelope(
        source=NAME, vendor_event_id=event.vendor_event_id, type=kind, occurred_at=occurred_at,
        correlation_id=correlation, business_key=customer, version=c.epoch_version(occurred_at), data=data,
    )


def _id(value: Any) -> str | None:
    """Stripe fields are ids or, when expanded, objects with an id."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _correlation(obj: dict[str, Any], entity: str, key: Any) -> str:
    carried = (obj.get("metadata") or {}).get(CORRELATION_KEY)
    return carried or correlation_id_for(entity, NAME, str(key))


def _invoice_correlation(invoice: dict[str, Any]) -> str:
    parent = (invoice.get("parent") or {}).get("subscription_details") or invoice.get("subscription_details") or {}
    carried = (invoice.get("metadata") or {}).get(CORRELATION_KEY) or (parent.get("metadata") or {}).get(
        CORRELATION_KEY
    )
    if carried:
        return carried
    subscription = _id(parent.get("subscription")) or _id(invoice.get("subscription"))
    if subscription:
        return correlation_id_for("subscription", NAME, subscription)
    return correlation_id_for("customer", NAME, str(_id(invoice.get("customer"))))


def _subscription(sub: dict[str, Any], record: str) -> Subscription:
    items = [_item(item) for item in (sub.get("items") or {}).get("data", [])]
    first_item = ((sub.get("items") or {}).get("data") or [{}])[0]
    recurring = (first_item.get("price") or {}).get("recurring") or {}
    period_end = sub.get("current_period_end") or first_item.get("current_period_end")
    metadata = sub.get("metadata") or {}
    return Subscription(
        subscription_id=c.require(sub.get("id"), "subscription id", NAME, record),
        customer_id=c.require(_id(sub.get("customer")), "subscription customer", NAME, record),
        status=sub.get("status") or "unknown",
        currency=c.currency(sub.get("currency") or (first_item.get("price") or {}).get("currency")),
        billing_frequency=c.frequency(recurring.get("interval"), recurring.get("interval_count")),
        items=items,
        start_date=_day(sub.get("start_date")),
        current_period_end=_day(period_end),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        canceled_at=c.from_epoch(sub.get("canceled_at")),
        legal_entity_id=metadata.get("legal_entity_id"),
        contract_id=metadata.get("contract_id"),
        external_ids={NAME: sub["id"]},
    )


def _day(seconds: Any) -> date | None:
    moment = c.from_epoch(seconds)
    return moment.date() if moment else None


def _item(item: dict[str, Any]) -> SubscriptionItem:
    price = item.get("price") or {}
    recurring = price.get("recurring") or {}
    code = price.get("currency")
    usage = None
    if recurring.get("usage_type") == "metered":
        usage = UsageTerms(
            metric=recurring.get("meter") or price.get("lookup_key") or price.get("id") or "usage",
            overage_unit_price=c.minor_to_major(price.get("unit_amount") or 0, code) or 0,
        )
    return SubscriptionItem(
        sku=price.get("lookup_key") or _id(price.get("product")) or price.get("id") or "unknown",
        name=price.get("nickname"),
        quantity=c.decimal(item.get("quantity"), field="quantity", system=NAME, default=1),
        unit_price=c.minor_to_major(price.get("unit_amount"), code),
        usage=usage,
        legal_entity_id=(item.get("metadata") or {}).get("legal_entity_id"),
    )


def _invoice(inv: dict[str, Any], record: str) -> Invoice:
    code = inv.get("currency")
    lines = [
        InvoiceLine(
            description=line.get("description"),
            sku=((line.get("price") or {}).get("lookup_key")
                 or ((line.get("pricing") or {}).get("price_details") or {}).get("product")),
            quantity=c.decimal(line.get("quantity"), field="quantity", system=NAME),
            amount=c.minor_to_major(line.get("amount") or 0, code),
        )
        for line in (inv.get("lines") or {}).get("data", [])
    ]
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    transitions = inv.get("status_transitions") or {}
    return Invoice(
        invoice_id=c.require(inv.get("id"), "invoice id", NAME, record),
        customer_id=c.require(_id(inv.get("customer")), "invoice customer", NAME, record),
        subscription_id=_id(parent.get("subscription")) or _id(inv.get("subscription")),
        number=inv.get("number"),
        status=inv.get("status") or "unknown",
        currency=c.require(c.currency(code), "invoice currency", NAME, record),
        total=c.minor_to_major(inv.get("total") or 0, code),
        amount_due=c.minor_to_major(inv.get("amount_due"), code),
        amount_paid=c.minor_to_major(inv.get("amount_paid"), code),
        issued_at=c.from_epoch(transitions.get("finalized_at") or inv.get("created")),
        due_at=c.from_epoch(inv.get("due_date")),
        lines=lines,
    )


def _invoice_payment_failure(inv: dict[str, Any], record: str) -> Payment:
    code = inv.get("currency")
    attempt = inv.get("last_finalization_error") or {}
    return Payment(
        payment_id=_id(inv.get("payment_intent")) or inv.get("id") or record,
        customer_id=c.require(_id(inv.get("customer")), "invoice customer", NAME, record),
        invoice_id=inv.get("id"),
        amount=c.minor_to_major(inv.get("amount_due") or 0, code),
        currency=c.require(c.currency(code), "invoice currency", NAME, record),
        status="failed",
        failure_reason=attempt.get("message") or f"invoice payment attempt {inv.get('attempt_count', 1)} failed",
    )


def _payment_intent(intent: dict[str, Any], record: str, occurred_at: Any) -> Payment:
    code = intent.get("currency")
    succeeded = intent.get("status") == "succeeded"
    error = intent.get("last_payment_error") or {}
    amount = intent.get("amount_received") if succeeded else intent.get("amount")
    return Payment(
        payment_id=c.require(intent.get("id"), "payment intent id", NAME, record),
        customer_id=_id(intent.get("customer")),
        invoice_id=_id(intent.get("invoice")),
        amount=c.minor_to_major(amount or 0, code),
        currency=c.require(c.currency(code), "payment currency", NAME, record),
        status="succeeded" if succeeded else "failed",
        failure_reason=None if succeeded else (error.get("message") or error.get("code") or "payment failed"),
        paid_at=occurred_at if succeeded else None,
    )
