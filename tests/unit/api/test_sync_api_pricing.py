"""Pricing and the shared data-quality rules, without I/O: the billing catalog is a fixed price list here."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from erphub import business_config
from erphub.api import price_book, pricing
from erphub.api.models import QuoteInput
from erphub.canonical import Account, Contract, LegalEntity, SubscriptionItem
from erphub.workflows.actions import quality

pytestmark = pytest.mark.unit

PRICES = {("PLATFORM-PRO", "monthly", "USD"): price_book.CatalogPrice(False, Decimal("50")),
          ("API-CALLS", "monthly", "USD"): price_book.CatalogPrice(True, Decimal("0.0004")),
          ("SSO", "monthly", "USD"): price_book.CatalogPrice(False, None)}


@pytest.fixture(autouse=True)
def catalog(monkeypatch):
    config = business_config.parse(business_config_document())
    monkeypatch.setattr(business_config, "current", lambda: config)
    monkeypatch.setattr(price_book, "catalog_price", lambda sku, frequency, currency: PRICES.get((sku, frequency,
                                                                                                 currency)))
    monkeypatch.setattr(price_book, "connector", lambda kind: SimpleNamespace(system="stripe"))


def business_config_document() -> str:
    import json

    return json.dumps({"product_catalog": ["PLATFORM-PRO", "API-CALLS", "SSO", "ANALYTICS"],
                       "subsidiary_currencies": {"US01": "USD", "DE01": "EUR"},
                       "approval": {"threshold": "500000", "timeout_seconds": 259200, "heartbeat_seconds": 86400},
                       "compare_prices": False})


def quote(*lines: dict, entities: list[dict] | None = None) -> QuoteInput:
    account = {"name": "Acme", "legal_entities": entities} if entities is not None else None
    return QuoteInput.model_validate({"currency": "USD", "account": account, "lines": list(lines)})


def test_a_monthly_line_over_a_term_is_priced_per_period():
    answer = pricing.price(quote({"sku": "PLATFORM-PRO", "quantity": "3", "billing_frequency": "monthly",
                                  "term_months": 24}))
    [line] = answer.lines
    assert (line.unit_price, line.periods, line.extended_price) == (Decimal("50"), 24, Decimal("3600.00"))
    assert answer.totals[0].amount == Decimal("3600.00") and answer.sellable


def test_why_a_line_is_not_sellable():
    answer = pricing.price(quote(
        {"sku": "API-CALLS", "billing_frequency": "monthly"},  # metered, but no usage terms
        {"sku": "SSO", "billing_frequency": "monthly"},  # no price in USD
        {"sku": "ANALYTICS", "billing_frequency": "monthly"},  # sellable SKU the billing catalog lacks
        {"sku": "PLATFORM-PRO", "billing_frequency": "monthly", "legal_entity_id": "LE-9"},
        entities=[{"entity_id": "LE-1", "name": "Acme Inc.", "subsidiary": "US01"}]))
    reasons = [line.reasons for line in answer.lines]
    assert reasons[0] == ["API-CALLS is metered: the line needs usage terms"]
    assert reasons[1] == ["SSO has no monthly price in USD"]
    assert reasons[2] == ["the billing catalog has no monthly price for ANALYTICS"]
    assert reasons[3] == ["legal entity LE-9 is not one of the account's"]
    assert not answer.sellable and answer.totals == []


def test_the_rules_name_rule_and_field():
    contract = Contract(contract_id="Q", version=0, currency="USD", account=Account(
        account_id="A", name="Acme", legal_entities=[LegalEntity(entity_id="E1", name="Acme GmbH", currency="USD",
                                                                 subsidiary="DE01")]),
        items=[SubscriptionItem(sku="NOPE")])
    found = {(v.rule, v.field) for v in quality.violations(contract)}
    assert found == {("tax_id_required", "account.legal_entities[0].tax_id"),
                     ("currency_matches_subsidiary", "account.legal_entities[0].currency"),
                     ("known_product", "items[0].sku")}
