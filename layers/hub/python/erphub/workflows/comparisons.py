"""Pure comparisons: billing against ERP after an amendment, and billing against a renewed opportunity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub import business_config
from erphub.canonical import Contract, Subscription

PERIODS_PER_YEAR = {"monthly": 12, "quarterly": 4, "semiannual": 2, "annual": 1}
TOLERANCE = Decimal("0.01")  # one percent: rounding of prorations and currency units


def compare_prices() -> bool:
    """Compare billed prices too (off where billing's catalog is not the deal's price list): business config."""
    return business_config.current().compare_prices


def _quantities(items: dict[str, Any]) -> dict[str, Decimal]:
    return {sku: Decimal(str(q)) for sku, q in items.items() if Decimal(str(q)) != 0}


def _metered(entity: str, billed: dict[str, Any], booked: dict[str, Any]) -> list[str]:
    """Usage items have no quantity: each is billed on a metered price and booked as an overage line, and their
    overage prices per unit agree (when billing tells its price)."""
    found = []
    for sku in sorted(set(billed) | set(booked)):
        if sku not in booked:
            found.append(f"{entity}: {sku} is metered in billing but has no overage line in the ERP")
        elif sku not in billed:
            found.append(f"{entity}: {sku} has an overage line in the ERP but is not metered in billing")
        elif billed[sku] is not None and Decimal(str(billed[sku])) != Decimal(str(booked[sku])):
            found.append(f"{entity}: {sku} overage price billing {billed[sku]} vs ERP {booked[sku]}")
    return found


def compare_books(billing: dict[str, Any], erp: dict[str, Any]) -> list[str]:
    """Snapshots {"entities": {entity: {"items": {sku: qty}, "metered": {sku: overage price | None},
    "value": annual recurring value | None}}}."""
    mismatches: list[str] = []
    billed, booked = billing.get("entities", {}), erp.get("entities", {})
    for entity in sorted(set(billed) | set(booked)):
        if entity not in booked:
            mismatches.append(f"{entity}: billed but not booked in the ERP")
            continue
        if entity not in billed:
            mismatches.append(f"{entity}: booked in the ERP but not billed")
            continue
        b_items, e_items = _quantities(billed[entity]["items"]), _quantities(booked[entity]["items"])
        for sku in sorted(set(b_items) | set(e_items)):
            if b_items.get(sku) != e_items.get(sku):
                mismatches.append(f"{entity}: {sku} quantity billing {b_items.get(sku, 0)} "
                                  f"vs ERP {e_items.get(sku, 0)}")
        mismatches += _metered(entity, billed[entity].get("metered") or {}, booked[entity].get("metered") or {})
        b_value, e_value = billed[entity].get("value"), booked[entity].get("value")
        if b_value is not None and e_value is not None:
            b, e = Decimal(str(b_value)), Decimal(str(e_value))
            if abs(b - e) > TOLERANCE * max(abs(b), abs(e), Decimal(1)):
                mismatches.append(f"{entity}: recurring value billing {b} vs ERP {e}")
    return mismatches


def compare_renewal(subscription: Subscription, contract: Contract, entity_items: dict[str, Decimal],
                    entity_prices: dict[str, Decimal | None]) -> list[str]:
    """Term, items and price of the billed subscription against what the renewed opportunity sold."""
    differences: list[str] = []
    billed = {i.sku: i for i in subscription.items}
    for sku in sorted(set(billed) | set(entity_items)):
        if sku not in billed:
            differences.append(f"{sku} is renewed but not billed")
        elif sku not in entity_items:
            differences.append(f"{sku} is billed but not renewed")
    if subscription.current_period_end and contract.term_start:
        gap = abs((contract.term_start - subscription.current_period_end).days)
        if gap > 1:
            differences.append(f"renewal term starts {contract.term_start}, billing period ends "
                               f"{subscription.current_period_end}")
    for sku, price in entity_prices.items() if compare_prices() else ():
        current = billed.get(sku)
        if price is not None and current is not None and current.unit_price not in (None, Decimal(0)):
            periods = PERIODS_PER_YEAR.get(str(contract.billing_frequency or "annual"), 1)
            annual = Decimal(current.unit_price) * periods
            if abs(annual - price) > TOLERANCE * max(price, Decimal(1)):
                differences.append(f"{sku} price billing {annual}/year vs renewal {price}")
    return differences
