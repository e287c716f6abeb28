"""The product catalog the sandbox's billing accounts hold, as a real Stripe or Chargebee account would: each SKU
has a list price per unit and year in each currency it is sold in, and is licensed (billed per seat) or metered
(billed on reported usage). Nothing outside it can be billed: there is no price invented on demand.

The SKUs are the sellable ones of config/business.json's product_catalog plus the ones the connector tests use.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# frequency -> (Stripe recurring interval, interval_count); also the periods per year
INTERVALS = {"monthly": ("month", 1), "quarterly": ("month", 3), "semiannual": ("month", 6), "annual": ("year", 1)}
PERIODS_PER_YEAR = {"monthly": 12, "quarterly": 4, "semiannual": 2, "annual": 1}
CURRENCIES = ("usd", "eur", "gbp")

# sku -> (usage type, yearly list price per unit in usd / eur / gbp); metered prices are per unit of usage
CATALOG: dict[str, tuple[str, dict[str, str]]] = {
    "PLATFORM-ENT": ("licensed", {"usd": "1200", "eur": "1100", "gbp": "950"}),
    "PLATFORM-PRO": ("licensed", {"usd": "600", "eur": "550", "gbp": "480"}),
    "ANALYTICS": ("licensed", {"usd": "300", "eur": "275", "gbp": "240"}),
    "SSO": ("licensed", {"usd": "120", "eur": "110", "gbp": "96"}),
    "PREMIUM-SUPPORT": ("licensed", {"usd": "2400", "eur": "2200", "gbp": "1900"}),
    "API-CALLS": ("metered", {"usd": "0.0004", "eur": "0.0004", "gbp": "0.0003"}),
    "PLATFORM": ("licensed", {"usd": "100", "eur": "92", "gbp": "80"}),
    "platform": ("licensed", {"usd": "100", "eur": "92", "gbp": "80"}),
    "sso": ("licensed", {"usd": "100", "eur": "92", "gbp": "80"}),
    "seats": ("licensed", {"usd": "100", "eur": "92", "gbp": "80"}),
    "usage-api": ("metered", {"usd": "0.01", "eur": "0.01", "gbp": "0.01"}),
}


def metered(sku: str) -> bool:
    return CATALOG[sku][0] == "metered"


def unit_amount(sku: str, currency: str, frequency: str) -> Decimal:
    """The price of one unit for one billing period, in minor units (cents); fractional for metered prices."""
    yearly = Decimal(CATALOG[sku][1][currency.lower()]) * 100
    if metered(sku):
        return yearly  # usage is priced per unit used, whatever the period
    per_period = yearly / PERIODS_PER_YEAR[frequency]
    return per_period.quantize(Decimal(1), ROUND_HALF_UP)
