"""Which changed deal fields a data fix can write to the CRM that masters them, and which the operator must fix
in the CRM and re-read (pure logic: the e2e tests write them through the sandbox's vendor contracts)."""

from __future__ import annotations

from erphub.operations import fixes, masters

TAX = {"field": "account.legal_entities[1].tax_id", "before": None, "after": "DE1", "master": "crm"}
SKU = {"field": "items[0].sku", "before": "OLD", "after": "NEW", "master": "crm"}
CURRENCY = {"field": "currency", "before": "USD", "after": "EUR", "master": fixes.master("currency")}


def test_salesforce_takes_legal_entities_and_line_items_on_the_opportunity():
    assert masters.plan("salesforce", [TAX, SKU]) == (["account.legal_entities", "items"], [])


def test_hubspot_takes_legal_entities_but_its_line_items_are_records_of_their_own():
    assert masters.plan("hubspot", [TAX, SKU]) == (["account.legal_entities"], ["items[0].sku"])


def test_a_field_no_crm_deal_holds_is_fixed_there_and_reread():
    assert masters.plan("salesforce", [CURRENCY, TAX]) == (["account.legal_entities"], ["currency"])
    assert masters.plan("gainsight", [TAX]) == ([], [TAX["field"]])  # not a CRM: nothing to write


def test_a_field_another_system_masters_is_never_written_to_the_crm():
    health = {"field": "account.legal_entities", "before": [], "after": [{}], "master": "success"}
    assert masters.plan("salesforce", [health]) == ([], ["account.legal_entities"])


def test_the_written_diff_names_the_vendor():
    assert masters.written_to([TAX], "salesforce") == [{**TAX, "written_to": "salesforce"}]
