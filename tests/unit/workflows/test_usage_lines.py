"""Usage-based overage in a two-currency deal: each entity's usage line states its overage price in the entity's
currency; billing gets those terms for its metered price and the ERP an overage line at that price, with no
quantity booked up front. A usage line priced in another currency than its entity's is refused, not converted."""

from decimal import Decimal

import pytest

from erphub.canonical import Contract
from erphub.errors import ValidationFailed
from erphub.workflows.actions.billing import priced_items
from erphub.workflows.actions.erp import order_lines

US_USAGE = {"metric": "api_calls", "unit": "call", "included_quantity": "10000000", "overage_unit_price": "0.0004"}
DE_USAGE = {**US_USAGE, "overage_unit_price": "0.00037", "currency": "EUR", "included_quantity": "2000000"}


def deal(de_usage: dict) -> Contract:
    return Contract.model_validate({
        "contract_id": "006U", "version": 1, "currency": "USD", "billing_frequency": "annual",
        "account": {"account_id": "001U", "name": "Umbrella", "legal_entities": [
            {"entity_id": "LE-US", "name": "Umbrella Inc.", "currency": "USD"},
            {"entity_id": "LE-DE", "name": "Umbrella GmbH", "currency": "EUR"}]},
        "items": [{"sku": "API-CALLS", "legal_entity_id": "LE-US", "usage": US_USAGE},
                  {"sku": "API-CALLS", "legal_entity_id": "LE-DE", "usage": de_usage}]})


def test_each_entity_books_an_overage_line_in_its_currency():
    contract = deal(DE_USAGE)
    us, de = contract.account.legal_entities
    [us_line], [de_line] = order_lines(contract, us), order_lines(contract, de)
    assert (us_line.quantity, us_line.rate) == (0, Decimal("0.0004"))
    assert (de_line.quantity, de_line.rate) == (0, Decimal("0.00037"))
    assert de_line.description == ("overage api_calls: 2000000 call included per annual period, then 0.00037 per "
                                   "call, billed in arrears")


def test_billing_gets_the_usage_terms_in_the_entitys_currency():
    contract = deal(DE_USAGE)
    us, de = contract.account.legal_entities
    assert priced_items(contract, us)[0].usage.currency == "USD"
    assert priced_items(contract, de)[0].usage.currency == "EUR"


def test_a_usage_line_priced_in_another_currency_than_its_entity_is_refused():
    contract = deal({**DE_USAGE, "currency": None})  # the deal's USD price for the EUR entity
    de = contract.account.legal_entities[1]
    with pytest.raises(ValidationFailed, match="priced in USD, the entity is billed in EUR"):
        priced_items(contract, de)
    with pytest.raises(ValidationFailed, match="priced in USD"):
        order_lines(contract, de)


def test_the_onboarding_knows_each_entitys_usage_allowance():
    from erphub.workflows.actions.success import usage_terms

    assert usage_terms(deal(DE_USAGE)) == (
        "LE-DE API-CALLS api_calls: 2000000 call included per annual period, then 0.00037 EUR per call; "
        "LE-US API-CALLS api_calls: 10000000 call included per annual period, then 0.0004 USD per call")
