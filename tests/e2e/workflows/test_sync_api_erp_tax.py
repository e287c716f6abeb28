"""/api/v1/tax/calculate when the stack is configured to use the ERP's tax codes (TaxEngine=erp) instead of the
billing vendor's calculation: the same request, answered from erphub/api/tax_codes.json, no Stripe call."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sync_api_client import call

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return {"TaxEngine": "erp"}


def test_tax_from_the_erp_tax_codes_per_legal_entity(hub):
    # Given Stripe Tax would fail if it were asked (the ERP's codes must not need it)
    hub.sandbox.faults.inject("stripe", "tax.calculation.create", kind="500", times=5)
    request = {"currency": "GBP", "ship_to": {"country": "GB", "postal_code": "EC1A 1BB"},
               "legal_entities": [{"entity_id": "LE-UK", "name": "Theta Ltd", "subsidiary": "UK01"}],
               "lines": [{"sku": "PLATFORM-ENT", "amount": "950.00"}, {"sku": "SSO", "amount": "96.00",
                                                                      "tax_code": "UK-VAT-20-DIGITAL"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/tax/calculate", request)
    assert status == 200, answer
    assert answer["engine"] == "erp_tax_codes" and answer["reference"] is None
    assert [line["tax_code"] for line in answer["lines"]] == ["UK-VAT-20", "UK-VAT-20-DIGITAL"]
    assert [Decimal(line["tax_amount"]) for line in answer["lines"]] == [Decimal("190.00"), Decimal("19.20")]
    [total] = answer["totals"]
    assert total["legal_entity_id"] == "LE-UK" and Decimal(total["total"]) == Decimal("1255.20")


def test_a_ship_to_country_without_its_own_code_gets_the_erp_default(hub):
    request = {"currency": "USD", "ship_to": {"country": "BR"}, "lines": [{"sku": "SSO", "amount": "120"}]}
    status, _, answer = call(hub.gateway, "POST", "/api/v1/tax/calculate", request)
    assert status == 200 and answer["lines"][0]["tax_code"] == "EXPORT-0"
    assert Decimal(answer["lines"][0]["tax_amount"]) == 0
