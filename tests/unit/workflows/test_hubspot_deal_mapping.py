"""A HubSpot deal, company and line items (as the CRM objects API returns them) as a canonical contract."""

import pytest

from erphub.connectors.hubspot_deal import to_contract
from erphub.errors import ValidationFailed

COMPANY = {"id": "9812", "properties": {"name": "Acme", "domain": "acme.example", "erphub_tax_id": "94-1"}}


def line(n: int, **properties) -> dict:
    return {"id": str(n), "properties": {"hs_sku": "PLATFORM-ENT", "quantity": "10", "price": "1200.00",
                                         "recurringbillingfrequency": "quarterly", **properties}}


def test_usage_terms_frequency_and_the_contract_a_change_belongs_to():
    deal = {"id": "1825", "properties": {"erphub_contract_key": "1821", "erphub_contract_version": "3",
                                         "erphub_previous_deal": "1821", "deal_currency_code": "eur"}}
    usage = line(2, hs_sku="API-CALLS", quantity="", erphub_usage_metric="api_calls", erphub_usage_unit="call",
                 erphub_included_quantity="10000000", erphub_overage_unit_price="0.0004")
    contract = to_contract(deal, COMPANY, [line(1), usage])
    assert (contract.contract_id, contract.version, contract.previous_contract_id) == ("1821", 3, "1821")
    assert contract.currency == "EUR" and contract.billing_frequency == "quarterly"
    assert contract.account.tax_id == "94-1" and contract.items[1].quantity == 1
    assert contract.items[1].usage.metric == "api_calls" and str(contract.items[1].usage.overage_unit_price) == "0.0004"


def test_mixed_frequencies_leave_the_deal_without_one_and_a_zero_quantity_stays_zero():
    contract = to_contract({"id": "1", "properties": {}}, COMPANY,
                           [line(1), line(2, recurringbillingfrequency="annually", quantity="0")])
    assert contract.billing_frequency is None and contract.items[1].quantity == 0


@pytest.mark.parametrize("bad", [{"erphub_usage_metric": "api_calls"}, {"quantity": "ten"}])
def test_a_line_item_that_cannot_be_billed_fails_typed(bad):
    with pytest.raises(ValidationFailed):
        to_contract({"id": "1", "properties": {}}, COMPANY, [line(1, **bad)])


def test_legal_entities_that_are_not_json_fail_typed():
    with pytest.raises(ValidationFailed, match="erphub_legal_entities"):
        to_contract({"id": "1", "properties": {"erphub_legal_entities": "LE-US, LE-DE"}}, COMPANY, [])
