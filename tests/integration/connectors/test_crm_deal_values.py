"""The CRM reads of contract-value reconciliation: every deal of a contract (the first, its amendments) with its
version and amount, from Salesforce (SOQL on Opportunity) and HubSpot (deal search), through the sandbox."""

from __future__ import annotations

import pytest

from erphub.connectors.hubspot import HubSpotCrm
from erphub.connectors.salesforce import SalesforceCrm

pytestmark = pytest.mark.integration


def test_salesforce_reads_the_first_opportunity_and_its_amendments(sandbox, connect):
    # Given a contract's first opportunity (its Id is the key), an amendment naming it, and another contract's
    first = sandbox.seed("salesforce", "Opportunity", {"Name": "Acme", "StageName": "Closed Won", "Amount": 144000.0,
                                                       "CurrencyIsoCode": "USD", "Contract_Version__c": 1.0})
    sandbox.seed("salesforce", "Opportunity", {"Id": "006AMEND2", "Name": "Acme +50", "StageName": "Closed Won",
                                               "Amount": None, "CurrencyIsoCode": "USD", "Contract_Version__c": 2.0,
                                               "Contract_Key__c": first})
    sandbox.seed("salesforce", "Opportunity", {"Name": "Other", "StageName": "Closed Won", "Amount": 1.0})
    # When the contract's deals are read, then both of its own come back with their versions and amounts
    deals = sorted(connect(SalesforceCrm).deals_of_contract(first), key=lambda d: d["version"])
    assert deals == [
        {"deal_id": first, "stage": "Closed Won", "amount": 144000.0, "currency": "USD", "version": 1.0},
        {"deal_id": "006AMEND2", "stage": "Closed Won", "amount": None, "currency": "USD", "version": 2.0}]


def test_a_salesforce_key_with_a_quote_is_escaped_not_injected(sandbox, connect):
    sandbox.seed("salesforce", "Opportunity", {"Name": "Acme", "StageName": "Closed Won", "Amount": 1.0})
    assert connect(SalesforceCrm).deals_of_contract("x' OR Name = 'Acme") == []


def test_hubspot_reads_the_first_deal_and_its_amendment_deals(sandbox, connect):
    # Given a first deal without a contract key (its id is the key), an amendment deal naming it, an unrelated one
    sandbox.seed("hubspot", "deals", {"id": "501", "dealstage": "closedwon", "amount": "144000",
                                      "deal_currency_code": "USD"})
    sandbox.seed("hubspot", "deals", {"id": "502", "dealstage": "amendmentwon", "amount": "",
                                      "erphub_contract_key": "501", "erphub_contract_version": "2"})
    sandbox.seed("hubspot", "deals", {"id": "503", "dealstage": "closedwon", "amount": "9"})
    deals = sorted(connect(HubSpotCrm).deals_of_contract("501"), key=lambda d: d["deal_id"])
    assert deals == [
        {"deal_id": "501", "stage": "closedwon", "amount": "144000", "currency": "USD", "version": 1},
        {"deal_id": "502", "stage": "amendmentwon", "amount": None, "currency": None, "version": "2"}]
