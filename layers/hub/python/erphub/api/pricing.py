"""POST /api/v1/quotes/price: each quote line priced against the billing catalog - unit and extended price,
overage terms, totals per legal entity and currency - and what is not sellable and why (the same catalog and
subsidiary-currency rules the activation's data-quality gate applies)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from erphub.api import price_book
from erphub.api.models import Overage, PricedLine, PricedQuote, QuoteInput, QuoteLine, Total
from erphub.canonical import SubscriptionItem
from erphub.workflows.actions import quality

PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}
CENT = Decimal("0.01")


def price(quote: QuoteInput) -> PricedQuote:
    entities = {e.entity_id: e for e in (quote.account.legal_entities if quote.account else [])}
    first = next(iter(entities), None)
    lines = [_line(i, line, quote.currency, entities, first) for i, line in enumerate(quote.lines)]
    sums: dict[tuple[str | None, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.sellable and line.extended_price is not None:
            sums[(line.legal_entity_id, line.currency)] += line.extended_price
    totals = [Total(legal_entity_id=entity, currency=currency, amount=amount)
              for (entity, currency), amount in sums.items()]
    return PricedQuote(sellable=all(line.sellable for line in lines), lines=lines, totals=totals,
                       price_source=price_book.connector("billing").system)


def _line(index: int, line: QuoteLine, quote_currency: str, entities: dict, first: str | None) -> PricedLine:
    currency = line.currency or quote_currency
    entity_id = line.legal_entity_id or first
    frequency = str(line.billing_frequency)
    reasons = [v.message for v in quality.item_violations([_as_item(line)])]
    reasons += _entity_reasons(entity_id, currency, entities)
    periods = max(1, line.term_months // PERIOD_MONTHS[frequency])
    found = price_book.catalog_price(line.sku, frequency, currency) if not reasons else None
    if not reasons and found is None:
        reasons.append(f"the billing catalog has no {frequency} price for {line.sku}")
    elif found is not None and found.unit_amount is None:
        reasons.append(f"{line.sku} has no {frequency} price in {currency}")
    overage, unit = _overage(line, found), None
    if found is not None and found.unit_amount is not None:
        if found.metered and line.usage is None:
            reasons.append(f"{line.sku} is metered: the line needs usage terms")
        unit = Decimal(0) if found.metered else found.unit_amount
    extended = None if unit is None else (unit * line.quantity * periods).quantize(CENT)
    return PricedLine(line=index, sku=line.sku, sellable=not reasons, reasons=reasons, currency=currency,
                      legal_entity_id=entity_id, billing_frequency=frequency, unit_price=unit, periods=periods,
                      extended_price=extended, overage=overage)


def _as_item(line: QuoteLine) -> SubscriptionItem:
    return SubscriptionItem(sku=line.sku, quantity=line.quantity, legal_entity_id=line.legal_entity_id)


def _entity_reasons(entity_id: str | None, currency: str, entities: dict) -> list[str]:
    if entity_id is None:
        return []
    entity = entities.get(entity_id)
    if entities and entity is None:
        return [f"legal entity {entity_id} is not one of the account's"]
    subsidiary = entity.subsidiary if entity is not None else None
    booked_in = quality.subsidiary_currencies().get(subsidiary or "")
    if booked_in and booked_in != currency:
        return [f"legal entity {entity_id} books in {booked_in} (subsidiary {subsidiary}), "
                f"the line is priced in {currency}"]
    return []


def _overage(line: QuoteLine, found: price_book.CatalogPrice | None) -> Overage | None:
    if line.usage is None:
        return None
    catalog = found.unit_amount if found is not None and found.metered else None
    return Overage(metric=line.usage.metric, unit=line.usage.unit, included_quantity=line.usage.included_quantity,
                   overage_unit_price=line.usage.overage_unit_price if line.usage.overage_unit_price is not None
                   else catalog)
