"""Stripe Billing through the form-encoded v1 API (nested fields such as `items[0][price]`).

Every POST carries an `Idempotency-Key` derived from the caller's key (rule 6): Stripe replays the first
response for a repeated key, so a retried create yields one object. Prices are found by lookup key
`<sku>_<billing frequency>` (e.g. `platform_annual`); metered prices take no quantity.

Secret (STRIPE_SECRET_NAME): {"api_key"}. Base URL (STRIPE_BASE_URL): https://api.stripe.com
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from erphub.canonical import Invoice, InvoiceLine, Subscription, SubscriptionItem
from erphub.connectors.base import Connector, add_months
from erphub.connectors.form_encoding import flatten
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import (
    BillingCustomer,
    CollectionStrategy,
    NewSubscription,
    RecordRef,
    SubscriptionChange,
)
from erphub.connectors.stripe_metering import Metering, terms_of
from erphub.errors import Conflict, HubError, Transient, ValidationFailed

STRIPE_VERSION = "2024-06-20"
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}
INTERVALS = {"monthly": ("month", 1), "quarterly": ("month", 3), "semiannual": ("month", 6), "annual": ("year", 1)}
FREQUENCIES = {interval: frequency for frequency, interval in INTERVALS.items()}


def parse_error(response: requests.Response) -> VendorError:
    """{"error": {"type": "...", "code": "...", "message": "...", "param": "..."}}"""
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return VendorError(str(error.get("message", "")), str(error.get("code") or error.get("type") or ""))
    return VendorError(response.text[:300] or response.reason)


def classify(response: requests.Response, vendor: VendorError) -> HubError | None:
    body = json_or_none(response) or {}
    if (body.get("error") or {}).get("type") != "idempotency_error":
        return None
    if response.status_code == 409:  # the same key is still executing elsewhere: Stripe saved nothing, retry is safe
        return Transient(f"stripe idempotency key in use: {vendor.message}", system="stripe")
    return Conflict(f"stripe idempotency_error: {vendor.message}", system="stripe")  # same key, other parameters


def to_major(amount: int | None, currency: str) -> Decimal:
    value = Decimal(amount or 0)
    return value if currency.upper() in ZERO_DECIMAL else value / 100


def _date(ts: int | None) -> date | None:
    return datetime.fromtimestamp(ts, UTC).date() if ts else None


def _invoice_subscription(raw: dict[str, Any]) -> str | None:
    """The invoice's subscription: `parent.subscription_details.subscription` since API 2025-03-31.basil, the
    top-level `subscription` before it (an expanded object or an id in either)."""
    parent = ((raw.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    found = parent or raw.get("subscription")
    return found.get("id") if isinstance(found, dict) else found


def lookup_key(sku: str, frequency: str) -> str:
    return f"{sku}_{frequency}"


def next_boundary(start: date, frequency: str, today: date) -> date:
    """The first billing date after today on the cycle that starts at `start` (term anniversaries for annual)."""
    interval, count = INTERVALS[frequency]
    step = count * (12 if interval == "year" else 1)
    periods = max(1, ((today.year - start.year) * 12 + today.month - start.month) // step)
    boundary = add_months(start, periods * step)
    while boundary <= today:
        periods += 1
        boundary = add_months(start, periods * step)
    return boundary


def _timestamp(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


def frequency_of(price: dict[str, Any]) -> str | None:
    recurring: dict[str, Any] = price.get("recurring") or {}
    return FREQUENCIES.get((recurring.get("interval", ""), recurring.get("interval_count", 0)))


def unit_price(price: dict[str, Any], currency: str) -> Decimal | None:
    """A multi-currency price shows its default currency; the subscription's currency is in currency_options."""
    option = price if price.get("currency") == currency else (price.get("currency_options") or {}).get(currency)
    if not option or option.get("unit_amount") is None:
        return None
    return to_major(option["unit_amount"], currency)


class StripeBilling(Connector):
    system = "stripe"
    _prices: dict[str, str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prices = {}  # lookup key -> price id; prices are immutable, so caching them is safe
        self.metering = Metering(self)

    def make_client(self) -> HttpClient:
        self.secret("api_key")  # a secret without it fails here, before any request

        def auth(*_: Any) -> dict[str, str]:
            return {"Authorization": f"Bearer {self.secret('api_key')[0]}", "Stripe-Version": STRIPE_VERSION}

        return self.client(auth=auth, error_parser=parse_error, classify=classify)

    def _post(self, path: str, params: dict[str, Any], idempotency_key: str, record: str = "") -> dict[str, Any]:
        return self.http.json("POST", path, data=flatten(params), idempotency_key=idempotency_key, record=record,
                              headers={"Idempotency-Key": idempotency_key})

    def _get(self, path: str, params: Any = None, record: str = "") -> dict[str, Any]:
        return self.http.json("GET", path, params=params, record=record)

    def price_id(self, sku: str, frequency: str) -> str:
        key = lookup_key(sku, frequency)
        if key not in self._prices:
            found = self.http.json("GET", "/v1/prices", params=[("lookup_keys[]", key), ("active", "true")])
            data = (found or {}).get("data") or []
            if not data:
                raise ValidationFailed(f"stripe has no active price with lookup key {key}", system=self.system)
            self._prices[key] = data[0]["id"]
        return self._prices[key]

    # --- customers ---------------------------------------------------------------------------------
    def upsert_customer(self, customer: BillingCustomer, *, idempotency_key: str) -> RecordRef:
        params = {"name": customer.name, "email": customer.email, "preferred_locales": None,
                  "address": {"country": customer.country} if customer.country else None,
                  "metadata": {**customer.metadata, "erphub_key": customer.customer_key,
                               "legal_entity_id": customer.legal_entity_id}}
        query = f"metadata['erphub_key']:'{customer.customer_key}'"
        found = (self._get("/v1/customers/search", {"query": query}).get("data") or [])
        if found:
            existing = found[0]["id"]
            self._post(f"/v1/customers/{existing}", params, f"{idempotency_key}:update", f"customer/{existing}")
            return RecordRef(system=self.system, kind="customer", id=existing,
                             external_id=customer.customer_key, created=False)
        body = self._post("/v1/customers", params, idempotency_key, f"customer/{customer.customer_key}")
        return RecordRef(system=self.system, kind="customer", id=body["id"], external_id=customer.customer_key,
                         created=True)

    # --- subscriptions -----------------------------------------------------------------------------
    def _item(self, item: SubscriptionItem, frequency: str, currency: str) -> dict[str, Any]:
        if item.usage is not None:  # a metered price of the contract's terms, billed on usage: no quantity
            return {"price": self.metering.price_id(item, item.usage, frequency, currency)}
        return {"price": self.price_id(item.sku, frequency), "quantity": item.quantity}

    def _reprice(self, existing: dict[str, Any], sku: str, frequency: str, currency: str) -> str:
        """The price of an item moved to another frequency: a metered one keeps its usage terms."""
        usage = terms_of(existing["price"])
        if usage is None:
            return self.price_id(sku, frequency)
        return self.metering.price_id(SubscriptionItem(sku=sku, usage=usage), usage, frequency, currency)

    def create_subscription(self, request: NewSubscription, *, idempotency_key: str) -> RecordRef:
        params: dict[str, Any] = {
            "customer": request.customer_id,
            "items": [self._item(item, request.billing_frequency, request.currency) for item in request.items],
            "currency": request.currency.lower(),
            "metadata": {"legal_entity_id": request.legal_entity_id, "contract_id": request.contract_id,
                         "billing_frequency": request.billing_frequency},
        }
        params.update(self._anchoring(request.start_date, request.billing_frequency, date.today()))
        body = self._post("/v1/subscriptions", params, idempotency_key, f"subscription/{request.customer_id}")
        return RecordRef(system=self.system, kind="subscription", id=body["id"], created=True)

    @staticmethod
    def _anchoring(start: date | None, frequency: str, today: date) -> dict[str, Any]:
        """Stripe anchors billing at creation. A term that starts later is anchored at its start (free until
        then); one that started earlier is backdated to its start and anchored at its next billing date, so the
        billing periods run on the term's own cycle (e.g. its anniversaries) and renewals line up."""
        if start is None or start == today:
            return {}
        if start > today:
            return {"billing_cycle_anchor": _timestamp(start), "proration_behavior": "none"}
        return {"backdate_start_date": _timestamp(start),
                "billing_cycle_anchor": _timestamp(next_boundary(start, frequency, today))}

    def _raw_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._get(f"/v1/subscriptions/{quote(subscription_id, safe='')}",
                         [("expand[]", "items.data.price.currency_options")], record=subscription_id)

    def change_subscription(self, subscription_id: str, change: SubscriptionChange, *, idempotency_key: str) -> None:
        """One request, built only from the change and the subscription's stable item ids: a retry under the same
        key after a lost response sends the same bytes (Stripe refuses other parameters under a used key). A new
        frequency moves every item, so the subscription keeps one interval."""
        current = self._raw_subscription(subscription_id)
        have = current["items"]["data"]
        frequency = change.billing_frequency or next(
            (f for f in (frequency_of(i["price"]) for i in have) if f), None) or "annual"
        added = {item.sku for item in change.add_items}
        items: list[dict[str, Any]] = []
        for existing in have:
            sku = (existing["price"].get("lookup_key") or "").rsplit("_", 1)[0]
            if sku in added:
                continue  # added by an earlier attempt of this same change: sent again as an addition below
            entry: dict[str, Any] = {"id": existing["id"]}
            if change.billing_frequency:
                entry["price"] = self._reprice(existing, sku, change.billing_frequency, current["currency"])
            if sku in change.quantities:
                entry["quantity" if change.quantities[sku] else "deleted"] = change.quantities[sku] or True
            if len(entry) > 1:
                items.append(entry)
        items += [self._item(item, frequency, current["currency"])
                  for item in sorted(change.add_items, key=lambda i: i.sku)]
        params = {"items": items, "proration_behavior": "create_prorations" if change.prorate else "none",
                  "metadata": {"billing_frequency": frequency}}
        self._post(f"/v1/subscriptions/{subscription_id}", params, idempotency_key, subscription_id)

    def cancel_subscription(self, subscription_id: str, *, at_period_end: bool = True, idempotency_key: str) -> None:
        if at_period_end:
            self._post(f"/v1/subscriptions/{subscription_id}", {"cancel_at_period_end": True}, idempotency_key,
                       subscription_id)
        else:  # DELETE cancels now; repeating it on a canceled subscription is harmless
            self.http.request("DELETE", f"/v1/subscriptions/{quote(subscription_id, safe='')}",
                              data=flatten({"prorate": True}), record=subscription_id)

    def get_subscription(self, subscription_id: str) -> Subscription:
        raw = self._raw_subscription(subscription_id)
        items = []
        for entry in raw["items"]["data"]:
            price = entry["price"]
            items.append(SubscriptionItem(sku=(price.get("lookup_key") or price["id"]).rsplit("_", 1)[0],
                                          quantity=Decimal(str(entry.get("quantity") or 0)),
                                          unit_price=unit_price(price, raw.get("currency", "usd")),
                                          usage=terms_of(price)))
        metadata = raw.get("metadata") or {}
        return Subscription(
            subscription_id=raw["id"], customer_id=raw["customer"], status=raw["status"],
            currency=(raw.get("currency") or "usd").upper(), items=items,
            start_date=_date(raw.get("start_date")), current_period_end=_date(raw.get("current_period_end")),
            cancel_at_period_end=bool(raw.get("cancel_at_period_end")),
            canceled_at=datetime.fromtimestamp(raw["canceled_at"], UTC) if raw.get("canceled_at") else None,
            legal_entity_id=metadata.get("legal_entity_id"), contract_id=metadata.get("contract_id"),
            external_ids={"stripe": raw["id"]})

    def set_collection(self, customer_id: str, strategy: CollectionStrategy, *, idempotency_key: str) -> None:
        """Stripe keeps the collection method on each subscription; dunning (Smart Retries) is account-wide."""
        subscriptions = self._get("/v1/subscriptions", {"customer": customer_id, "status": "active"})
        for sub in subscriptions.get("data") or []:
            params: dict[str, Any] = {"collection_method": strategy.method,
                                      "metadata": {"erphub_dunning": "on" if strategy.dunning else "off"}}
            if strategy.method == "send_invoice":
                params["days_until_due"] = strategy.days_until_due or 30
            self._post(f"/v1/subscriptions/{sub['id']}", params, f"{idempotency_key}:{sub['id']}", sub["id"])

    def list_invoices(self, customer_id: str) -> list[Invoice]:
        body = self._get("/v1/invoices", {"customer": customer_id, "limit": 100}, customer_id)
        invoices = []
        for raw in body.get("data") or []:
            currency = (raw.get("currency") or "usd").upper()
            invoices.append(Invoice(
                invoice_id=raw["id"], customer_id=raw["customer"], subscription_id=_invoice_subscription(raw),
                number=raw.get("number"), status=raw.get("status") or "draft", currency=currency,
                issued_at=datetime.fromtimestamp(raw["created"], UTC) if raw.get("created") else None,
                total=to_major(raw.get("total"), currency), amount_due=to_major(raw.get("amount_due"), currency),
                amount_paid=to_major(raw.get("amount_paid"), currency),
                lines=[InvoiceLine(description=line.get("description"),
                                   amount=to_major(line.get("amount"), currency))
                       for line in (raw.get("lines") or {}).get("data") or []]))
        return invoices
