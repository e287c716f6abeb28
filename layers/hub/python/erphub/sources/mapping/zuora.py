"""Zuora callout bodies into canonical billing events: the mapping behind erphub.sources.zuora's normalize.

A module of its own, imported only when an event is normalized, so the webhook's ack path (verify, parse,
acknowledge) imports no pydantic.

Zuora callout bodies are templates of merge fields; the hub's template (documented in events/README.md)
is JSON: {eventType, eventTimestamp, tenantId, account: {id, accountNumber, currency, crmId},
subscription: {id, subscriptionNumber, status, termStartDate, termEndDate, billingPeriod, contractId,
correlationId, legalEntityId, ratePlanCharges: [{sku, name, quantity, price, uom}]},
invoice: {id, invoiceNumber, status, amount, balance, invoiceDate, dueDate, items: [...]},
payment: {id, amount, status, effectiveDate, gatewayResponse, invoiceId},
usage: {id, uom, quantity, startDateTime, subscriptionNumber}}. Zuora amounts are already major units.

Routing: SubscriptionCreated, AmendmentProcessed, SubscriptionCancelled -> billing.subscription.*;
InvoicePosted -> billing.invoice.finalized; PaymentProcessed -> billing.payment.succeeded;
PaymentDeclined -> billing.payment.failed; UsageRecordCreated (a custom event on the Usage object) ->
billing.usage.recorded. Business key: the Zuora account id.
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
    UsageRecord,
)
from erphub.event_ids import correlation_id_for
from erphub.sources.inbound import VendorEvent
from erphub.sources.mapping import _common as c

NAME = "zuora"

_TYPES = {
    "SubscriptionCreated": EventType.SUBSCRIPTION_CREATED,
    "AmendmentProcessed": EventType.SUBSCRIPTION_UPDATED,
    "SubscriptionCancelled": EventType.SUBSCRIPTION_CANCELED,
    "InvoicePosted": EventType.INVOICE_FINALIZED,
    "PaymentProcessed": EventType.PAYMENT_SUCCEEDED,
    "PaymentDeclined": EventType.PAYMENT_FAILED,
    "UsageRecordCreated": EventType.USAGE_RECORDED,
}


@c.mapping_guard(NAME)
def normalize(event: VendorEvent) -> EventEnvelope | None:
    kind = _TYPES.get(event.vendor_type)
    if kind is None:
        return None
    body, record = event.payload, event.vendor_event_id
    account = body["account"]
    customer = c.require(account.get("id"), "account.id", NAME, record)
    code = account.get("currency")
    occurred_at = c.require(c.parse_datetime(body.get("eventTimestamp")), "eventTimestamp", NAME, record)
    subscription = body.get("subscription") or {}
    data: Any
    if kind in (EventType.SUBSCRIPTION_CREATED, EventType.SUBSCRIPTION_UPDATED, EventType.SUBSCRIPTION_CANCELED):
        data = _subscription(c.require(body.get("subscription"), "subscription", NAME, record), customer, code,
                             kind == EventType.SUBSCRIPTION_CANCELED, occurred_at)
    elif kind == EventType.INVOICE_FINALIZED:
        data = _invoice(c.require(body.get("invoice"), "invoice", NAME, record), customer, code)
    elif kind == EventType.USAGE_RECORDED:
        usage = c.require(body.get("usage"), "usage", NAME, record)
        data = UsageRecord(
            record_id=usage.get("id"),
            subscription_id=usage.get("subscriptionNumber") or subscription.get("subscriptionNumber"),
            customer_id=customer, metric=c.require(usage.get("uom"), "usage.uom", NAME, record),
            quantity=c.decimal(usage.get("quantity"), field="usage.quantity", system=NAME),
            recorded_at=c.parse_datetime(usage.get("startDateTime")) or occurred_at,
        )
    else:
        data = _payment(c.require(body.get("payment"), "payment", NAME, record), customer, code,
                        kind == EventType.PAYMENT_SUCCEEDED)
    number = subscription.get("subscriptionNumber")
    correlation = subscription.get("correlationId") or (
        correlation_id_for("subscription", NAME, number) if number else correlation_id_for("customer", NAME,
                                                                                           customer))
    return c.envelope(
        source=NAME, vendor_event_id=record, type=kind, occurred_at=occurred_at, correlation_id=correlation,
        business_key=customer, version=c.epoch_version(occurred_at), data=data,
    )


def _subscription(sub: dict[str, Any], customer: str, code: Any, canceled: bool, occurred_at: Any) -> Subscription:
    return Subscription(
        subscription_id=sub.get("subscriptionNumber") or sub["id"],
        customer_id=customer,
        status=(sub.get("status") or ("Cancelled" if canceled else "Active")).lower(),
        currency=c.currency(code),
        billing_frequency=c.frequency_name(sub.get("billingPeriod")),
        items=[
            SubscriptionItem(sku=charge.get("sku") or charge["name"], name=charge.get("name"),
                             quantity=c.decimal(charge.get("quantity"), field="quantity", system=NAME, default=1),
                             unit_price=c.decimal(charge.get("price"), field="price", system=NAME),
                             legal_entity_id=sub.get("legalEntityId"))
            for charge in sub.get("ratePlanCharges") or []
        ],
        start_date=c.parse_date(sub.get("termStartDate")),
        current_period_end=c.parse_date(sub.get("termEndDate")),
        canceled_at=occurred_at if canceled else None,
        legal_entity_id=sub.get("legalEntityId"),
        contract_id=sub.get("contractId"),
        external_ids={NAME: sub["id"]} if sub.get("id") else {},
    )


def _invoice(inv: dict[str, Any], customer: str, code: Any) -> Invoice:
    amount = c.decimal(inv.get("amount"), field="invoice.amount", system=NAME) or 0
    balance = c.decimal(inv.get("balance"), field="invoice.balance", system=NAME)
    return Invoice(
        invoice_id=inv["id"],
        customer_id=customer,
        subscription_id=inv.get("subscriptionNumber"),
        number=inv.get("invoiceNumber"),
        status=(inv.get("status") or "posted").lower(),
        currency=c.currency(inv.get("currency") or code),
        total=amount,
        amount_due=balance,
        amount_paid=amount - balance if balance is not None else None,
        issued_at=c.parse_datetime(inv.get("invoiceDate")),
        due_at=c.parse_datetime(inv.get("dueDate")),
        lines=[InvoiceLine(description=item.get("chargeName"), sku=item.get("sku"),
                           quantity=c.decimal(item.get("quantity"), field="quantity", system=NAME),
                           amount=c.decimal(item.get("chargeAmount"), field="chargeAmount", system=NAME))
               for item in inv.get("items") or []],
    )


def _payment(pay: dict[str, Any], customer: str, code: Any, succeeded: bool) -> Payment:
    return Payment(
        payment_id=pay["id"],
        customer_id=customer,
        invoice_id=pay.get("invoiceId"),
        amount=c.decimal(pay.get("amount"), field="payment.amount", system=NAME),
        currency=c.currency(pay.get("currency") or code),
        status="succeeded" if succeeded else "failed",
        failure_reason=None if succeeded else (pay.get("gatewayResponse") or pay.get("status") or "declined"),
        paid_at=c.parse_datetime(pay.get("effectiveDate")) if succeeded else None,
    )
