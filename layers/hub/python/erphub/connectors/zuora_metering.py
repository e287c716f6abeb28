"""A closed usage period's total as one Zuora usage record (CRUD `POST /v1/object/usage`) on the subscription's
usage charge: Zuora rates it with the charge's model (Overage: the included units free, then the overage price) on
the invoice of the charge's billing period.

Why the object API and not `POST /v1/usage`: the latter imports a CSV file asynchronously (an import to poll),
built for many records; the hub sends one total per period, which the object API creates synchronously and
answers with the record's id. Vendor facts (developer.zuora.com v1 API reference, "CRUD: Create a usage record",
"Actions: Query"; docs.zuora.com SOAP object reference "Usage", read 2026-12):
- AccountNumber, SubscriptionNumber, ChargeNumber, Quantity, StartDateTime, UOM, Description (<= 200 characters);
  ChargeNumber ties the record to one charge (a ChargeId changes with every amendment, the number does not).
- StartDateTime decides the usage date, in the tenant's time zone.
- The Usage object's Description is filterable in ZOQL (`POST /v1/action/query`).
- UniqueKey is only available with the Prepaid with Drawdown feature, so it cannot be the guard against a second
  record; the Idempotency-Key header covers a retried request, not a report repeated days later.
Exactly once therefore is a lookup first: the record carries the period's key in its Description, and a report
that finds a record with that Description on the account does not create another one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from erphub.connectors.zuora import refusal
from erphub.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from erphub.connectors.zuora import ZuoraBilling

DESCRIPTION_MAX = 200
QUERY_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.# ")


def description(idempotency_key: str) -> str:
    return f"erphub {idempotency_key}"[:DESCRIPTION_MAX]


def usage_moment(period_end: date) -> datetime:
    """Noon UTC of the period's last day: that day in every tenant time zone from UTC-12 to UTC+11 (the period's
    last second, as Stripe and Chargebee get it, would be the next day, the next period, east of UTC)."""
    return datetime.combine(period_end - timedelta(days=1), time(12), tzinfo=UTC)


def zoql_literal(value: str) -> str:
    """A ZOQL string literal; refused rather than escaped when it holds anything but key characters."""
    if not set(value) <= QUERY_SAFE:
        raise ValidationFailed(f"not a safe ZOQL value: {value!r}", system="zuora", record=value)
    return f"'{value}'"


class ZuoraMetering:
    def __init__(self, zuora: ZuoraBilling) -> None:
        self.zuora = zuora

    def usage_charge(self, raw: dict[str, Any], sku: str | None) -> dict[str, Any]:
        """The subscription's active usage charge of the SKU (any usage charge when no SKU is given)."""
        for plan in raw.get("ratePlans") or []:
            if plan.get("lastChangeType") == "Remove" or (sku is not None and plan.get("productSku") != sku):
                continue
            charge = next((c for c in plan.get("ratePlanCharges") or [] if c.get("type") == "Usage"), None)
            if charge is not None:
                return dict(charge)
        raise NotFound(f"zuora subscription {raw.get('subscriptionNumber')} has no usage charge for {sku}",
                       system="zuora", record=str(raw.get("subscriptionNumber") or ""))

    def existing(self, account: str, text: str) -> str | None:
        # ZOQL has no bind parameters; zoql_literal refuses any value outside the key characters
        query = (f"select Id, Quantity from Usage where AccountNumber = {zoql_literal(account)}"  # noqa: S608  # nosec B608 - values pass zoql_literal
                 f" and Description = {zoql_literal(text)}")
        found = self.zuora.call("POST", "/v1/action/query", body={"queryString": query}, record=account)
        records = found.get("records") or []
        return str(records[0].get("Id")) if records else None

    def report(self, subscription_id: str, metric: str, quantity: Decimal, period_end: date,
               idempotency_key: str, sku: str | None = None) -> dict[str, Any]:
        raw = self.zuora._raw(subscription_id)
        account, text = str(raw.get("accountNumber")), description(idempotency_key)
        charge = self.usage_charge(raw, sku)
        usage_id = self.existing(account, text)
        if usage_id is None:
            body = self.zuora.call("POST", "/v1/object/usage", body={
                "AccountNumber": account, "SubscriptionNumber": raw.get("subscriptionNumber") or subscription_id,
                "ChargeNumber": charge["number"], "Quantity": float(quantity) if quantity != quantity.to_integral()
                else int(quantity), "UOM": charge.get("uom") or "Each",
                "StartDateTime": usage_moment(period_end).isoformat(timespec="seconds"), "Description": text},
                idempotency_key=idempotency_key, record=subscription_id)
            if body.get("Success") is False:
                raise refusal({"reasons": [{"code": e.get("Code"), "message": e.get("Message")}
                                           for e in body.get("Errors") or []]}, subscription_id)
            usage_id = str(body.get("Id"))
        return {"customer_id": account, "currency": str(raw.get("currency") or "").upper(), "reference": usage_id,
                "metric": metric}
