"""A contract's usage terms as Stripe bills them: a billing meter per metric (`/v1/billing/meters`) and a metered
price on it (`recurring.usage_type=metered`, `recurring.meter`), graduated so that the included quantity costs
nothing and every unit beyond it the overage price. Such a price goes on a subscription without a quantity.

Prices are immutable and looked up by a key derived from the terms, so the same terms in the same currency and
interval share one price, and creating it twice (a retried step) finds the first. The terms also travel in the
price's metadata: the connector reads them back (reconciliation, a change of billing frequency) from Stripe.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from erphub.canonical import SubscriptionItem, UsageTerms
from erphub.connectors.base import external_key
from erphub.errors import ValidationFailed

if TYPE_CHECKING:
    from erphub.connectors.stripe import StripeBilling

ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}
INTERVALS = {"monthly": ("month", 1), "quarterly": ("month", 3), "semiannual": ("month", 6), "annual": ("year", 1)}
METER_CUSTOMER_KEY = "stripe_customer_id"  # Stripe's default payload keys for meter events
METER_VALUE_KEY = "value"


def usage_lookup_key(item: SubscriptionItem, frequency: str, currency: str) -> str:
    """`<sku>_<digest of the terms>`: the SKU stays readable before the last underscore, as for catalog prices."""
    usage = item.usage
    assert usage is not None
    terms = "|".join(str(part) for part in (usage.metric, usage.unit, usage.included_quantity,
                                            usage.overage_unit_price, currency.upper(), frequency))
    return f"{item.sku}_usage{hashlib.sha256(terms.encode()).hexdigest()[:12]}"


def minor_units(amount: Decimal, currency: str) -> str:
    """A per-unit price in the currency's minor units, fractions kept (`unit_amount_decimal`, 12 places)."""
    value = amount if currency.upper() in ZERO_DECIMAL else amount * 100
    return format(value.normalize(), "f")


def terms_of(price: dict[str, Any]) -> UsageTerms | None:
    """The usage terms a metered price was created for, from its metadata (None for a price made elsewhere)."""
    meta = price.get("metadata") or {}
    if (price.get("recurring") or {}).get("usage_type") != "metered" or "erphub_metric" not in meta:
        return None
    return UsageTerms(metric=meta["erphub_metric"], unit=meta.get("erphub_unit") or "unit",
                      included_quantity=Decimal(meta.get("erphub_included_quantity") or 0),
                      overage_unit_price=Decimal(meta["erphub_overage_unit_price"]),
                      currency=(meta.get("erphub_currency") or "").upper() or None)


def _tiers(usage: UsageTerms, currency: str) -> dict[str, Any]:
    overage = minor_units(usage.overage_unit_price, currency)
    if usage.included_quantity == 0:
        return {"billing_scheme": "per_unit", "unit_amount_decimal": overage}
    if usage.included_quantity != usage.included_quantity.to_integral_value() or usage.included_quantity < 0:
        raise ValidationFailed(f"stripe tiers need a whole included quantity, not {usage.included_quantity}",
                               system="stripe", record=usage.metric)
    return {"billing_scheme": "tiered", "tiers_mode": "graduated",
            "tiers": [{"up_to": int(usage.included_quantity), "unit_amount": 0},
                      {"up_to": "inf", "unit_amount_decimal": overage}]}


class Metering:
    """Meters and metered prices of one Stripe account, cached per connector (both are immutable once found)."""

    def __init__(self, stripe: StripeBilling) -> None:
        self.stripe = stripe
        self._meters: dict[str, str] = {}

    def meter_id(self, metric: str) -> str:
        """The active meter whose event name is the metric; created (summing `value`) if there is none."""
        if metric not in self._meters:
            found, after = None, None
            while found is None:
                page = self.stripe._get("/v1/billing/meters", {"status": "active", "limit": 100,
                                                               **({"starting_after": after} if after else {})})
                data = page.get("data") or []
                found = next((m["id"] for m in data if m.get("event_name") == metric), None)
                if found is None and (not page.get("has_more") or not data):
                    break
                after = data[-1]["id"] if data else None
            if found is None:
                found = self.stripe._post("/v1/billing/meters", {
                    "display_name": metric.replace("_", " "), "event_name": metric,
                    "default_aggregation": {"formula": "sum"},
                    "customer_mapping": {"type": "by_id", "event_payload_key": METER_CUSTOMER_KEY},
                    "value_settings": {"event_payload_key": METER_VALUE_KEY}},
                    f"erphub:meter:{metric}", f"meter/{metric}")["id"]
            self._meters[metric] = found
        return self._meters[metric]

    def price_id(self, item: SubscriptionItem, frequency: str, currency: str) -> str:
        """The metered price for an item's usage terms in one currency and billing interval."""
        usage = item.usage
        assert usage is not None
        if usage.period and usage.period != frequency:
            raise ValidationFailed(f"usage {usage.metric} is measured {usage.period} on a {frequency} subscription: "
                                   "Stripe bills every price of a subscription on one interval",
                                   system="stripe", record=item.sku)
        key = usage_lookup_key(item, frequency, currency)
        if key in self.stripe._prices:
            return self.stripe._prices[key]
        found = self.stripe._get("/v1/prices", [("lookup_keys[]", key), ("active", "true")]).get("data") or []
        if found:
            self.stripe._prices[key] = found[0]["id"]
            return found[0]["id"]
        interval, count = INTERVALS[frequency]
        params = {"currency": currency.lower(), "lookup_key": key, "nickname": f"{item.sku} {usage.metric} overage",
                  "product_data": {"name": item.name or item.sku, "metadata": {"sku": item.sku}},
                  "recurring": {"interval": interval, "interval_count": count, "usage_type": "metered",
                                "meter": self.meter_id(usage.metric)},
                  **_tiers(usage, currency),
                  "metadata": {"erphub_sku": item.sku, "erphub_metric": usage.metric, "erphub_unit": usage.unit,
                               "erphub_included_quantity": str(usage.included_quantity),
                               "erphub_overage_unit_price": str(usage.overage_unit_price),
                               "erphub_currency": currency.upper()}}
        price = self.stripe._post("/v1/prices", params, f"erphub:price:{key}", f"price/{key}")
        self.stripe._prices[key] = price["id"]
        return price["id"]

    def report(self, subscription_id: str, metric: str, quantity: Decimal, period_end: date,
               idempotency_key: str, sku: str | None = None) -> dict[str, Any]:
        """A period's total as one meter event (`POST /v1/billing/meter_events`) on the subscription's customer,
        timestamped in the period's last second, so Stripe bills it on that period's invoice. Stripe keeps an
        event's `identifier` unique for at least 24 hours (a retried report is not counted twice) and takes
        timestamps up to 35 days old: the usage cut-off stays below that (docs/usage.md). The meter is the metric
        (one meter per metric, `sku` is not needed to find it)."""
        if quantity != quantity.to_integral_value():
            raise ValidationFailed(f"stripe meter events take whole values, not {quantity}", system="stripe",
                                   record=subscription_id)
        subscription = self.stripe._get(f"/v1/subscriptions/{subscription_id}", record=subscription_id)
        customer = str(subscription["customer"])
        moment = int(datetime.combine(period_end, time(0), tzinfo=UTC).timestamp()) - 1
        identifier = external_key(idempotency_key, 100)
        event = self.stripe._post("/v1/billing/meter_events", {
            "event_name": metric, "identifier": identifier, "timestamp": moment,
            "payload": {METER_CUSTOMER_KEY: customer, METER_VALUE_KEY: str(int(quantity))}},
            idempotency_key, f"meter_event/{identifier}")
        return {"customer_id": customer, "currency": str(subscription.get("currency") or "").upper(),
                "reference": event.get("identifier") or identifier}
