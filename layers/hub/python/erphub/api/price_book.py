"""The billing vendor's catalog price of a SKU, read through the connector and cached: prices are immutable in
Stripe (a change is a new price), so a cached read is as good as a fresh one for CACHE_SECONDS."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, NamedTuple

from erphub.connectors import stripe
from erphub.errors import ValidationFailed
from erphub.workflows.systems import connector

CACHE_SECONDS = 300.0
_cache: dict[tuple[str, str, str], tuple[float, dict[str, Any] | None]] = {}


class CatalogPrice(NamedTuple):
    metered: bool
    unit_amount: Decimal | None  # per unit and billing period (licensed) or per unit used (metered), major units


def catalog_price(sku: str, frequency: str, currency: str) -> CatalogPrice | None:
    """None if the billing catalog has no active price for the SKU and frequency; unit_amount None if it has one
    but not in this currency. Only Stripe's catalog is read here (ValidationFailed for another billing vendor)."""
    billing = connector("billing")
    if billing.system != "stripe":
        raise ValidationFailed(f"pricing reads Stripe's catalog; BILLING_VENDOR is {billing.system}",
                               system=billing.system)
    price = _price(billing, stripe.lookup_key(sku, frequency))
    if price is None:
        return None
    metered = (price.get("recurring") or {}).get("usage_type") == "metered"
    return CatalogPrice(metered, _amount(price, currency.lower(), metered))


def _price(billing: Any, key: str) -> dict[str, Any] | None:
    cache_key = (billing.config.base_url, key, "")
    cached = _cache.get(cache_key)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = billing.http.json("GET", "/v1/prices", params=[("lookup_keys[]", key), ("active", "true")])
    data = (found or {}).get("data") or []
    _cache[cache_key] = (time.monotonic(), data[0] if data else None)
    return _cache[cache_key][1]


def _amount(price: dict[str, Any], currency: str, metered: bool) -> Decimal | None:
    """Stripe states amounts in minor units; a metered price's is fractional, so it is in unit_amount_decimal."""
    option = price if price.get("currency") == currency else (price.get("currency_options") or {}).get(currency)
    if not option:
        return None
    if not metered:
        return stripe.unit_price(price, currency)
    raw = option.get("unit_amount_decimal")
    if raw is None:
        return None
    minor = Decimal(str(raw))
    return minor if currency.upper() in stripe.ZERO_DECIMAL else minor / 100


def clear_cache() -> None:
    _cache.clear()
