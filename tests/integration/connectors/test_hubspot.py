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
