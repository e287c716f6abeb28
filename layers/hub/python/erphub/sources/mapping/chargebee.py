"""Chargebee v2 events into canonical billing events: the mapping behind erphub.sources.chargebee's normalize.

A module of its own, imported only when an event is normalized, so the webhook's ack path (verify, parse,
acknowledge) imports no pydantic.

Routing (one canonical type per Chargebee event):
  subscription_created -> billing.subscription.created
  subscription_changed / subscription_renewed / subscription_reactivated -> billing.subscription.updated
  subscription_cancelled -> billing.subscription.canceled
  invoice_generated -> billing.invoice.finalized
  payment_succeeded -> billing.payment.succeeded (the paid invoice is in the payment's invoice_id)
  payment_failed -> billing.payment.failed
Amounts are in minor units and become Decimal major units. Correlation: subscription
meta_data["erphub_correlation_id"], else the subscription, else the customer. Business key: the customer id.
"""

from __future__ import annotations

from typing import Any

from erphub.canonical import (
    EventEnvelope,
    EventType,
    Invoice,
    InvoiceLine,
    Payment,
    Subscription,
    SubscriptionItem,
)
from erphub.event_ids import correlation_id_for
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c

NAME = "chargebee"
CORRELATION_KEY = "erphub_correlation_id"

_TYPES = {
    "subscription_created": EventType.SUBSCRIPTION_CREATED,
    "subscription_changed": EventType.SUBSCRIPTION_UPDATED,
    "subscription_renewed": EventType.SUBSCRIPTION_UPDATED,
    "subscription_reactivated": EventType.SUBSCRIPTION_UPDATED,
    "subscription_cancelled": EventType.SUBSCRIPTION_CANCELED,
    "invoice_generated": EventType.INVOICE_FINALIZED,
    "payment_succeeded": EventType.PAYMENT_SUCCEEDED,
    "payment_failed": EventType.PAYMENT_FAILED,
}


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
    kind = _TYPES.get(event.vendor_type)
    if kind is None:
        return None
    content: dict[str, Any] = event.payload["content"]
    record = event.vendor_event_id
    occurred_at = c.require(c.from_epoch(event.payload["occurred_at"]), "occurred_at", NAME, record)
    subscription = content.get("subscription") or {}
    data: Any
    if event.vendor_type.startswith("subscription_"):
        data = _subscription(c.require(content.get("subscription"), "content.subscription", NAME, record))
    elif event.vendor_type == "invoice_generated":
        data = _invoice(c.require(content.get("invoice"), "content.invoice", NAME, record))
    else:
        data = _payment(c.require(content.get("transaction"), "content.transaction", NAME, record))
    customer = c.require(data.customer_id, "customer_id", NAME, record)
    return c.envelope(
        source=NAME, vendor_event_id=record, type=kind, occurred_at=occurred_at,
        correlation_id=_correlation(subscription, content, customer), business_key=customer,
        version=c.epoch_version(occurred_at), data=data,
    )


def _correlation(subscription: dict[str, Any], content: dict[str, Any], customer: str) -> str:
    carried = (subscription.get("meta_data") or {}).get(CORRELATION_KEY)
    if carried:
        return carried
    subscription_id = subscription.get("id") or (content.get("invoice") or {}).get("subscription_id") or (
        content.get("transaction") or {}).get("subscription_id")
    if subscription_id:
        return correlation_id_for("subscription", NAME, subscription_id)
    return correlation_id_for("customer", NAME, customer)


def _day(seconds: Any) -> Any:
    moment = c.from_epoch(seconds)
    return moment.date() if moment else None


def _subscription(sub: dict[str, Any]) -> Subscription:
    code = sub.get("currency_code")
    meta = sub.get("meta_data") or {}
    items = [
        SubscriptionItem(
            sku=item["item_price_id"],
            quantity=c.decimal(item.get("quantity"), field="quantity", system=NAME, default=1),
            unit_price=c.minor_to_major(item.get("unit_price"), code),
            legal_entity_id=meta.get("legal_entity_id"),
        )
        for item in sub.get("subscription_items") or []
    ]
    return Subscription(
        subscription_id=sub["id"],
        customer_id=sub["customer_id"],
        status=sub.get("status") or "unknown",
        currency=c.currency(code),
        billing_frequency=c.frequency(sub.get("billing_period_unit"), sub.get("billing_period")),
        items=items,
        start_date=_day(sub.get("started_at") or sub.get("start_date")),
        current_period_end=_day(sub.get("current_term_end")),
        cancel_at_period_end=sub.get("status") == "non_renewing",
        canceled_at=c.from_epoch(sub.get("cancelled_at")),
        legal_entity_id=meta.get("legal_entity_id"),
        contract_id=meta.get("contract_id"),
        external_ids={NAME: sub["id"]},
    )


def _invoice(inv: dict[str, Any]) -> Invoice:
    code = inv.get("currency_code")
    return Invoice(
        invoice_id=inv["id"],
        customer_id=inv["customer_id"],
        subscription_id=inv.get("subscription_id"),
        number=inv["id"],
        status=inv.get("status") or "unknown",
        currency=c.currency(code),
        total=c.minor_to_major(inv.get("total") or 0, code),
        amount_due=c.minor_to_major(inv.get("amount_due"), code),
        amount_paid=c.minor_to_major(inv.get("amount_paid"), code),
        issued_at=c.from_epoch(inv.get("date")),
        due_at=c.from_epoch(inv.get("due_date")),
        lines=[
            InvoiceLine(description=line.get("description"), sku=line.get("entity_id"),
                        quantity=c.decimal(line.get("quantity"), field="quantity", system=NAME),
                        amount=c.minor_to_major(line.get("amount") or 0, code))
            for line in inv.get("line_items") or []
        ],
    )


def _payment(txn: dict[str, Any]) -> Payment:
    code = txn.get("currency_code")
    succeeded = txn.get("status") == "success"
    invoices = txn.get("linked_invoices") or []
    return Payment(
        payment_id=txn["id"],
        customer_id=txn.get("customer_id"),
        invoice_id=invoices[0].get("invoice_id") if invoices else None,
        amount=c.minor_to_major(txn.get("amount") or 0, code),
        currency=c.currency(code),
        status="succeeded" if succeeded else "failed",
        failure_reason=None if succeeded else (txn.get("error_text") or txn.get("error_code") or "payment failed"),
        paid_at=c.from_epoch(txn.get("date")) if succeeded else None,
    )
