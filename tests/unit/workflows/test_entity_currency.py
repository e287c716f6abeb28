"""A deal priced in one currency, booked for an entity in another: the ERP order carries billing's price in the
entity's currency, never the deal's number unconverted."""

from decimal import Decimal

import pytest

from erphub.canonical import Contract
from erphub.errors import ValidationFailed
from erphub.workflows.actions.erp import order_lines

DEAL = Contract.model_validate({
    "contract_id": "006G", "version": 1, "currency": "GBP",
    "account": {"account_id": "001G", "name": "Globex", "legal_entities": [
        {"entity_id": "LE-UK", "name": "Globex Ltd", "currency": "GBP"},
        {"entity_id": "LE-US", "name": "Globex Inc.", "currency": "USD"}]},
    "items": [{"sku": "PLATFORM-ENT", "quantity": "10", "unit_price": "950", "legal_entity_id": "LE-UK"},
              {"sku": "PLATFORM-ENT", "quantity": "5", "unit_price": "950", "legal_entity_id": "LE-US"}]})


def test_the_entity_in_the_deals_currency_keeps_the_deal_price():
    [line] = order_lines(DEAL, DEAL.account.legal_entities[0])
    assert line.rate == Decimal(950)


def test_the_entity_in_another_currency_is_booked_at_billings_price_in_that_currency():
    [line] = order_lines(DEAL, DEAL.account.legal_entities[1], {"PLATFORM-ENT": "1200"})
    assert line.rate == Decimal(1200) and line.quantity == 5


def test_without_a_price_in_that_currency_nothing_is_booked():
    with pytest.raises(ValidationFailed, match="no USD price for PLATFORM-ENT"):
        order_lines(DEAL, DEAL.account.legal_entities[1])
