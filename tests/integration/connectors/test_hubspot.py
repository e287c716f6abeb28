"""HubSpot: CRM v3 objects with a private-app token; search before create on a unique property."""

from __future__ import annotations

from datetime import date

import pytest

from erphub.canonical import Account
from erphub.connectors.hubspot import HubSpotCrm
from erphub.connectors.interfaces import AccountUpdate, OwnerTask
from erphub.errors import NotFound, Permanent, RateLimited, ValidationFailed

pytestmark = pytest.mark.integration


@pytest.fixture
def company(sandbox):
    return sandbox.seed("hubspot", "companies", {"name": "Acme", "hubspot_owner_id": "77"})


def test_reads_and_updates(sandbox, connect, company):
    deal = sandbox.seed("hubspot", "deals", {"dealname": "Acme 2025", "dealstage": "closedwon"})
    crm = connect(HubSpotCrm)
    assert crm.get_account(company)["properties"]["name"] == "Acme"
    assert crm.get_opportunity(deal)["properties"]["dealstage"] == "closedwon"
    crm.update_account(company, AccountUpdate(lifecycle_status="customer", external_ids={"netsuite": "1001"}))
    crm.update_opportunity(deal, {"erphub_status": "activated"})
    stored = sandbox.records("hubspot", "companies")[0]["properties"]
    assert stored["erphub_lifecycle_status"] == "customer" and stored["erphub_netsuite_id"] == "1001"
    assert sandbox.records("hubspot", "deals")[0]["properties"]["erphub_status"] == "activated"


def test_upsert_account_searches_before_creating(sandbox, connect):
    crm = connect(HubSpotCrm)
    first = crm.upsert_account(Account(account_id="sf-001", name="Acme"), idempotency_key="k")
    second = crm.upsert_account(Account(account_id="sf-001", name="Acme Inc"), idempotency_key="k")
    assert (first.created, second.created) == (True, False) and first.id == second.id
    companies = sandbox.records("hubspot", "companies")
    assert len(companies) == 1 and companies[0]["properties"]["name"] == "Acme Inc"


def test_task_is_created_once_for_the_owner_and_associated_to_the_company(sandbox, connect, company):
    crm = connect(HubSpotCrm)
    task = OwnerTask(subject="Call about renewal risk", due_date=date(2025, 5, 1))
    first = crm.create_task(company, task, idempotency_key="corr-1:task")
    second = crm.create_task(company, task, idempotency_key="corr-1:task")
    assert first.id == second.id
    tasks = sandbox.records("hubspot", "tasks")
    assert len(tasks) == 1 and tasks[0]["properties"]["hubspot_owner_id"] == "77"
    assert tasks[0]["associations"][0]["types"][0]["associationTypeId"] == 192


def test_a_create_that_lost_the_race_resolves_to_the_existing_record(sandbox, connect):
    crm = connect(HubSpotCrm)
    existing = sandbox.seed("hubspot", "companies", {"name": "Acme", "erphub_key": "sf-9"})
    crm.find = lambda *_: None  # the search saw nothing: someone creates it right after
    ref = crm._create_once("companies", "sf-9", {"name": "Acme"})
    assert ref.id == existing and ref.created is False
    assert len(sandbox.records("hubspot", "companies")) == 1


def test_errors_are_typed(sandbox, connect, company):
    crm = connect(HubSpotCrm, max_attempts=1)
    with pytest.raises(NotFound, match="OBJECT_NOT_FOUND"):
        crm.get_account("999")
    with pytest.raises(ValidationFailed, match="associations are invalid"):
        crm.create_task("424242", OwnerTask(subject="x", owner_id="1"), idempotency_key="k2")
    sandbox.faults.inject("hubspot", "companies.get", kind="429", retry_after=3)
    with pytest.raises(RateLimited, match="RATE_LIMITS") as raised:
        crm.get_account(company)
    assert raised.value.retry_after == 3


def test_a_wrong_token_is_refused(connect, company, rotate):
    rotate("hubspot", access_token="pat-na1-wrong")
    crm = connect(HubSpotCrm)
    with pytest.raises(Permanent, match="INVALID_AUTHENTICATION"):
        crm.get_account(company)


def test_find_account_by_key_then_domain_then_name(sandbox, connect):
    from erphub.canonical import Account

    crm = connect(HubSpotCrm)
    account = Account(account_id="sf-77", name="Globex", domain="globex.test")
    assert crm.find_account(account) is None
    by_name = sandbox.seed("hubspot", "companies", {"name": "Globex"})
    assert crm.find_account(account) == by_name
    by_domain = sandbox.seed("hubspot", "companies", {"name": "Globex Corp", "domain": "globex.test"})
    assert crm.find_account(account) == by_domain
    ours = sandbox.seed("hubspot", "companies", {"name": "Globex", "erphub_key": "sf-77"})
    assert crm.find_account(account) == ours


ENTITIES = ('[{"entity_id": "LE-US", "name": "Acme Inc.", "currency": "usd", "tax_id": "94-1", "subsidiary": "US01"},'
            ' {"entity_id": "LE-DE", "name": "Acme GmbH", "currency": "EUR", "tax_id": "DE1", "subsidiary": "DE01"}]')


def _seed_deal(sandbox, company: str, lines: int = 2) -> str:
    hubspot = sandbox.vendors["hubspot"]
    deal = sandbox.seed("hubspot", "deals", {
        "dealname": "Acme 2025", "dealstage": "closedwon", "amount": "144000", "deal_currency_code": "USD",
        "closedate": "2024-05-31T00:00:00Z", "erphub_term_start": "2024-06-01", "erphub_term_end": "2025-05-31",
        "erphub_legal_entities": ENTITIES})
    hubspot.associate("deals", deal, "companies", company, 5)
    for n in range(lines):
        line = sandbox.seed("hubspot", "line_items", {
            "hs_sku": "PLATFORM-ENT", "name": "Platform", "quantity": str(10 + n), "price": "1200.00",
            "recurringbillingfrequency": "annually", "erphub_legal_entity_id": "LE-US" if n == 0 else "LE-DE"})
        hubspot.associate("deals", deal, "line_items", line)
    return deal


def test_a_closed_deal_is_read_with_its_primary_company_and_line_items(sandbox, connect, company):
    # Given a deal associated with two companies (one primary) and with two line items
    other = sandbox.seed("hubspot", "companies", {"name": "Reseller"})
    deal = _seed_deal(sandbox, company)
    sandbox.vendors["hubspot"].associate("deals", deal, "companies", other, 341)
    sandbox.vendors["hubspot"].table("companies")[company]["properties"].update(domain="acme.example",
                                                                                   erphub_tax_id="94-1")
    # When the activation reads it (the webhook named the other company)
    contract = connect(HubSpotCrm).fetch_deal(deal, other)
    # Then amount, currency, term, entities and lines are the deal's, the account its primary company
    assert (contract.contract_id, contract.version, contract.currency, str(contract.amount)) == (
        deal, 1, "USD", "144000")
    assert contract.account.account_id == company and contract.account.name == "Acme"
    assert contract.account.domain == "acme.example" and contract.account.external_ids == {"hubspot": company}
    assert [e.currency for e in contract.account.legal_entities] == ["USD", "EUR"]
    assert [(i.sku, i.quantity, i.legal_entity_id) for i in contract.items] == [
        ("PLATFORM-ENT", 10, "LE-US"), ("PLATFORM-ENT", 11, "LE-DE")]
    assert contract.billing_frequency == "annual" and str(contract.term_start) == "2024-06-01"


def test_associations_are_read_across_pages(sandbox, connect, company, monkeypatch):
    from erphub.connectors import hubspot

    monkeypatch.setattr(hubspot, "PAGE", 2)
    deal = _seed_deal(sandbox, company, lines=5)
    contract = connect(HubSpotCrm).fetch_deal(deal)
    assert [i.quantity for i in contract.items] == [10, 11, 12, 13, 14]


def test_a_deal_without_a_company_or_gone_fails_typed(sandbox, connect):
    crm = connect(HubSpotCrm)
    lonely = sandbox.seed("hubspot", "deals", {"dealname": "No company", "dealstage": "closedwon"})
    with pytest.raises(ValidationFailed, match="no associated company"):
        crm.fetch_deal(lonely)
    with pytest.raises(NotFound):
        crm.fetch_deal("404404")
