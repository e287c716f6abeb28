"""Chargebee Billing through the v2 API (product catalog 2.0): form-encoded, HTTP basic auth with the API key
as user name, and the `chargebee-idempotency-key` header on every POST.

Chargebee lets the caller choose ids, so customers take our customer key as id and a subscription takes
the caller's idempotency key: the same create twice yields one record even across idempotency-key expiry.
Item prices are named `<sku>-<CUR>-<Period>` (e.g. `platform-USD-Yearly`), Chargebee's default naming.
A usage item is a metered item price without a quantity; the contract's usage terms become its `item_tiers` on
the subscription: the included units at price 0, then every unit at the overage price (`price_in_decimal`, major
units, as multi-decimal pricing takes it).

Secret (CHARGEBEE_SECRET_NAME): {"api_key"}. Base URL (CHARGEBEE_BASE_URL): https://<site>.chargebee.com
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from erphub.canonical import BillingFrequency, Invoice, InvoiceLine, Subscription, SubscriptionItem, UsageTerms
from erphub.connectors.base import Connector, external_key
from erphub.connectors.http import HttpClient, VendorError, json_or_none
from erphub.connectors.interfaces import (
    BillingCustomer,
    CollectionStrategy,
    NewSubscription,
    RecordRef,
    SubscriptionChange,
)
from erphub.connectors.stripe import to_major
from erphub.errors import Conflict, HubError, NotFound

API = "/api/v2"
PERIODS = {"monthly": "Monthly", "quarterly": "Every-3-months", "semiannual": "Every-6-months", "annual": "Yearly"}
FREQUENCIES = {v: k for k, v in PERIODS.items()}


def parse_error(response: requests.Response) -> VendorError:
    """{"message", "type", "api_error_code", "param", "error_code", "error_msg", "http_status_code"}"""
    body = json_or_none(response)
    if isinstance(body, dict):
        return VendorError(str(body.get("message") or body.get("error_msg") or ""), str(body.get("api_error_code", "")))
    return VendorError(response.text[:300] or response.reason)


def classify(response: requests.Response, vendor: VendorError) -> HubError | None:
    if vendor.code == "duplicate_entry":
        return Conflict(f"chargebee duplicate_entry: {vendor.message}", system="chargebee")
    return None


def item_price_id(sku: str, currency: str, frequency: str) -> str:
    return f"{sku}-{currency.upper()}-{PERIODS[frequency]}"


def tiers_form(usage_items: list[tuple[str, UsageTerms]]) -> list[tuple[str, str]]:
    """`item_tiers[field][n]` for each usage item price: included units free, then the overage price."""
    rows: list[tuple[str, int, int | None, Decimal]] = []
    for price_id, usage in usage_items:
        included = int(usage.included_quantity)
        if included > 0:
            rows.append((price_id, 1, included, Decimal(0)))
        rows.append((price_id, included + 1, None, usage.overage_unit_price))
    form: list[tuple[str, str]] = []
    for index, (price_id, start, end, price) in enumerate(rows):
        form += [(f"item_tiers[item_price_id][{index}]", price_id), (f"item_tiers[starting_unit][{index}]", str(start))]
        if end is not None:
            form.append((f"item_tiers[ending_unit][{index}]", str(end)))
        form.append((f"item_tiers[price_in_decimal][{index}]", format(price.normalize(), "f")))
    return form


def terms_from(tiers: list[dict[str, Any]], price_id: str) -> UsageTerms | None:
    """The usage terms of a subscription's item tiers for one item price (None if it has none)."""
    mine = sorted((t for t in tiers if t.get("item_price_id") == price_id), key=lambda t: int(t["starting_unit"]))
    if not mine or mine[-1].get("ending_unit") is not None:
        return None
    return UsageTerms(metric=price_id.split("-")[0], included_quantity=Decimal(int(mine[-1]["starting_unit"]) - 1),
                      overage_unit_price=Decimal(str(mine[-1].get("price_in_decimal") or 0)))


def _ts(value: int | None) -> date | None:
    return datetime.fromtimestamp(value, UTC).date() if value else None


class ChargebeeBilling(Connector):
    system = "chargebee"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from erphub.connectors.chargebee_metering import ChargebeeMetering

        self.metering = ChargebeeMetering(self)  # closed usage periods (erphub.usage.report)

    def make_client(self) -> HttpClient:
        self.secret("api_key")
        return self.client(auth=lambda *_: {"Authorization": requests.auth._basic_auth_str(self.secret("api_key")[0],
                                                                                           "")},
                           error_parser=parse_error, classify=classify)

    def _post(self, path: str, form: list[tuple[str, str]] | dict[str, Any], idempotency_key: str,
              record: str = "") -> dict[str, Any]:
        return self.http.json("POST", f"{API}{path}", data=form, idempotency_key=idempotency_key, record=record,
                              headers={"chargebee-idempotency-key": idempotency_key})

    def _get(self, path: str, params: Any = None, record: str = "") -> dict[str, Any]:
        return self.http.json("GET", f"{API}{path}", params=params, record=record)

    @staticmethod
    def _items_form(items: list[tuple[str, Decimal | None]]) -> list[tuple[str, str]]:
        form: list[tuple[str, str]] = []
        for index, (price_id, quantity) in enumerate(items):
            form.append((f"subscription_items[item_price_id][{index}]", price_id))
            if quantity is not None:
                form.append((f"subscription_items[quantity][{index}]", format(quantity.normalize(), "f")))
        return form

    def upsert_customer(self, customer: BillingCustomer, *, idempotency_key: str) -> RecordRef:
        customer_id = external_key(customer.customer_key, 50)
        form = {k: v for k, v in {"company": customer.name, "email": customer.email,
                                  "preferred_currency_code": customer.currency}.items() if v}
        try:
            self._get(f"/customers/{quote(customer_id, safe='')}", record=customer_id)
        except NotFound:
            self._post("/customers", {"id": customer_id, **form}, idempotency_key, customer_id)
            return RecordRef(system=self.system, kind="customer", id=customer_id,
                             external_id=customer.customer_key, created=True)
        self._post(f"/customers/{quote(customer_id, safe='')}", form, f"{idempotency_key}:update", customer_id)
        return RecordRef(system=self.system, kind="customer", id=customer_id, external_id=customer.customer_key,
                         created=False)

    def create_subscription(self, request: NewSubscription, *, idempotency_key: str) -> RecordRef:
        subscription_id = external_key(idempotency_key, 50)
        prices = [(item_price_id(i.sku, request.currency, request.billing_frequency), None if i.usage else i.quantity)
                  for i in request.items]
        usage = [(item_price_id(i.sku, request.currency, request.billing_frequency), i.usage) for i in request.items
                 if i.usage]
        form = [("id", subscription_id), *self._items_form(prices), *tiers_form(usage)]
        if request.start_date:
            start = datetime.combine(request.start_date, datetime.min.time(), UTC)
            form.append(("start_date", str(int(start.timestamp()))))
        if request.legal_entity_id:
            form.append(("cf_legal_entity_id", request.legal_entity_id))
        try:
            self._post(f"/customers/{quote(request.customer_id, safe='')}/subscription_for_items", form,
                       idempotency_key, subscription_id)
        except Conflict:  # the subscription id is ours: it exists, so an earlier attempt created it
            return RecordRef(system=self.system, kind="subscription", id=subscription_id, created=False)
        return RecordRef(system=self.system, kind="subscription", id=subscription_id, created=True)

    def change_subscription(self, subscription_id: str, change: SubscriptionChange, *, idempotency_key: str) -> None:
        current = self._get(f"/subscriptions/{quote(subscription_id, safe='')}", record=subscription_id)
        sub = current["subscription"]
        currency = sub.get("currency_code", "USD")
        frequency = change.billing_frequency
        items: list[tuple[str, Decimal | None]] = []
        usage: list[tuple[str, UsageTerms]] = []
        for existing in sub.get("subscription_items") or []:
            sku = existing["item_price_id"].split(f"-{currency}-")[0]
            period = existing["item_price_id"].split(f"-{currency}-")[-1]
            frequency = frequency or BillingFrequency(FREQUENCIES.get(period, "annual"))
            terms = terms_from(sub.get("item_tiers") or [], existing["item_price_id"])
            if terms is not None:  # metered: no quantity, its tiers follow it to the new item price
                usage.append((item_price_id(sku, currency, frequency), terms))
            quantity = None if terms else change.quantities.get(sku, Decimal(str(existing.get("quantity", 1))))
            items.append((item_price_id(sku, currency, frequency), quantity))
        items += [(item_price_id(i.sku, currency, frequency or "annual"), None if i.usage else i.quantity)
                  for i in change.add_items]
        usage += [(item_price_id(i.sku, currency, frequency or "annual"), i.usage) for i in change.add_items if i.usage]
        items = [(price, quantity) for price, quantity in items if quantity != 0]  # 0: removed from the list
        form = [*self._items_form(items), *tiers_form(usage), ("replace_items_list", "true"),
                ("prorate", "true" if change.prorate else "false")]
        self._post(f"/subscriptions/{quote(subscription_id, safe='')}/update_for_items", form, idempotency_key,
                   subscription_id)

    def cancel_subscription(self, subscription_id: str, *, at_period_end: bool = True, idempotency_key: str) -> None:
        self._post(f"/subscriptions/{quote(subscription_id, safe='')}/cancel_for_items",
                   {"end_of_term": "true" if at_period_end else "false"}, idempotency_key, subscription_id)

    def get_subscription(self, subscription_id: str) -> Subscription:
        sub = self._get(f"/subscriptions/{quote(subscription_id, safe='')}", record=subscription_id)["subscription"]
        currency = sub.get("currency_code", "USD")
        items = []
        for entry in sub.get("subscription_items") or []:
            usage = terms_from(sub.get("item_tiers") or [], entry["item_price_id"])
            items.append(SubscriptionItem(sku=entry["item_price_id"].split(f"-{currency}-")[0], usage=usage,
                                          quantity=Decimal(0) if usage else Decimal(str(entry.get("quantity", 1))),
                                          unit_price=None if usage else to_major(entry.get("unit_price"), currency)))
        return Subscription(
            subscription_id=sub["id"], customer_id=sub["customer_id"], status=sub["status"], currency=currency,
            items=items, start_date=_ts(sub.get("start_date") or sub.get("started_at")),
            current_period_end=_ts(sub.get("current_term_end")),
            cancel_at_period_end=sub.get("status") == "non_renewing",
            canceled_at=datetime.fromtimestamp(sub["cancelled_at"], UTC) if sub.get("cancelled_at") else None,
            legal_entity_id=sub.get("cf_legal_entity_id"), external_ids={"chargebee": sub["id"]})

    def set_collection(self, customer_id: str, strategy: CollectionStrategy, *, idempotency_key: str) -> None:
        """auto_collection on = charge the card on file; off = send invoices with net terms."""
        form: dict[str, Any] = {"auto_collection": "on" if strategy.method == "charge_automatically" else "off"}
        if strategy.method == "send_invoice":
            form["net_term_days"] = str(strategy.days_until_due or 30)
        form["cf_dunning"] = "on" if strategy.dunning else "off"
        self._post(f"/customers/{quote(customer_id, safe='')}", form, idempotency_key, customer_id)

    def list_invoices(self, customer_id: str) -> list[Invoice]:
        body = self._get("/invoices", {"customer_id[is]": customer_id, "limit": 100}, customer_id)
        invoices = []
        for entry in body.get("list") or []:
            raw = entry["invoice"]
            currency = raw.get("currency_code", "USD")
            invoices.append(Invoice(
                invoice_id=raw["id"], customer_id=raw["customer_id"], subscription_id=raw.get("subscription_id"),
                number=raw["id"], status=raw.get("status", "pending"), currency=currency,
                issued_at=datetime.fromtimestamp(raw["date"], UTC) if raw.get("date") else None,
                total=to_major(raw.get("total"), currency), amount_due=to_major(raw.get("amount_due"), currency),
                amount_paid=to_major(raw.get("amount_paid"), currency),
                lines=[InvoiceLine(description=li.get("description"), amount=to_major(li.get("amount"), currency))
                       for li in raw.get("line_items") or []]))
        return invoices
