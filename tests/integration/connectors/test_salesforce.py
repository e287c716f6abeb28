"""Salesforce: OAuth 2.0 client credentials, sObject reads and updates, upsert by external-id field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erphub.canonical import Account
from erphub.connectors.interfaces import AccountUpdate, OwnerTask
from erphub.connectors.salesforce import SalesforceCrm
from erphub.errors import NotFound, Permanent, RateLimited, ValidationFailed

pytestmark = pytest.mark.integration


@pytest.fixture
def account_id(sandbox):
    return sandbox.seed("salesforce", "Account", {"Name": "Acme", "OwnerId": "005OWNER"})


def test_get_account_and_opportunity(sandbox, connect, account_id):
    opportunity = sandbox.seed("salesforce", "Opportunity", {"Name": "Acme renewal", "StageName": "Closed Won"})
    crm = connect(SalesforceCrm)
    assert crm.get_account(account_id)["Name"] == "Acme"
    assert crm.get_opportunity(opportunity)["StageName"] == "Closed Won"
    crm.update_opportunity(opportunity, {"Erphub_Status__c": "Activated"})
    assert sandbox.records("salesforce", "Opportunity")[0]["Erphub_Status__c"] == "Activated"


def test_update_account_writes_lifecycle_ids_and_risk(sandbox, connect, account_id):
    connect(SalesforceCrm).update_account(account_id, AccountUpdate(
        lifecycle_status="Customer", external_ids={"netsuite": "1001", "stripe": "cus_1"}, renewal_risk="high",
        health_score=Decimal("41.5"), account_plan="Expand to EMEA"))
    stored = sandbox.records("salesforce", "Account")[0]
    assert stored["Lifecycle_Status__c"] == "Customer" and stored["Netsuite_Id__c"] == "1001"
    assert stored["Stripe_Id__c"] == "cus_1" and stored["Renewal_Risk__c"] == "high"
    assert stored["Health_Score__c"] == 41.5


def test_upsert_account_by_external_id_is_created_once(sandbox, connect):
    crm = connect(SalesforceCrm)
    account = Account(account_id="hub-42", name="Acme Corp", domain="acme.test")
    first = crm.upsert_account(account, idempotency_key="corr:upsert")
    second = crm.upsert_account(account, idempotency_key="corr:upsert")
    assert (first.created, second.created) == (True, False) and first.id == second.id
    assert len(sandbox.records("salesforce", "Account")) == 1


def test_task_for_the_account_owner_is_idempotent_under_a_lost_response(sandbox, connect, account_id):
    crm = connect(SalesforceCrm, read_timeout_seconds=0.3)
    crm.get_account(account_id)  # token first
    sandbox.faults.inject("salesforce", "Task.upsert", kind="timeout", seconds=1.0, after_commit=True)
    crm.create_task(account_id, OwnerTask(subject="Review order", due_date=date(2025, 3, 1), priority="high"),
                    idempotency_key="corr-7:task")
    tasks = sandbox.records("salesforce", "Task")
    assert len(tasks) == 1 and tasks[0]["OwnerId"] == "005OWNER" and tasks[0]["Priority"] == "High"


def test_errors_are_typed(sandbox, connect, account_id):
    crm = connect(SalesforceCrm, max_attempts=1)
    with pytest.raises(NotFound, match="NOT_FOUND"):
        crm.get_account("001000000000000AAA")
    with pytest.raises(ValidationFailed, match="REQUIRED_FIELD_MISSING"):
        crm.create_task(account_id, OwnerTask(subject="", owner_id="005X"), idempotency_key="k")
    sandbox.limit_concurrency("salesforce", 0)
    with pytest.raises(RateLimited, match="REQUEST_LIMIT_EXCEEDED"):
        crm.get_account(account_id)


def test_a_wrong_bearer_token_is_replaced_by_a_fresh_one(sandbox, connect, account_id):
    crm = connect(SalesforceCrm)
    crm.get_account(account_id)
    crm.token._token = "00Dforged"
    assert crm.get_account(account_id)["Name"] == "Acme"
    assert crm.token.token() != "00Dforged"


def test_wrong_client_credentials_are_refused(sandbox, connect):
    crm = connect(SalesforceCrm)
    crm._credentials = {"client_id": "other", "client_secret": "x"}
    with pytest.raises(Permanent, match="invalid_client"):
        crm.get_account("001")


def test_a_stale_session_is_refreshed_once_and_the_call_succeeds(sandbox, connect, account_id):
    crm = connect(SalesforceCrm)
    crm.get_account(account_id)
    first_token = crm.token.token()
    sandbox.vendors["salesforce"].issuer.revoke_all()  # the session expired (401 INVALID_SESSION_ID)
    crm.update_account(account_id, AccountUpdate(lifecycle_status="active"))
    assert crm.token.token() != first_token
    assert sandbox.records("salesforce", "Account")[0]["Lifecycle_Status__c"] == "active"


def test_a_session_refused_after_the_refresh_fails_typed(sandbox, connect, account_id, monkeypatch):
    crm = connect(SalesforceCrm)
    crm.get_account(account_id)
    monkeypatch.setattr(sandbox.vendors["salesforce"].issuer, "valid", lambda token: False)
    before = crm.http.attempts
    with pytest.raises(Permanent, match="INVALID_SESSION_ID"):
        crm.get_account(account_id)
    assert crm.http.attempts - before == 2  # the call, then once more with a fresh token: then it stops


def test_a_429_keeps_its_retry_after(sandbox, connect, account_id):
    crm = connect(SalesforceCrm, max_attempts=1)
    crm.get_account(account_id)
    sandbox.faults.inject("salesforce", "Account.get", kind="429", retry_after=30)
    with pytest.raises(RateLimited) as raised:
        crm.get_account(account_id)
    assert raised.value.retry_after == 30


def test_find_account_by_key_first_then_by_name(sandbox, connect):
    crm = connect(SalesforceCrm)
    account = Account(account_id="hub-7", name="O'Hara \\ Sons")
    assert crm.find_account(account) is None
    by_name = sandbox.seed("salesforce", "Account", {"Name": "O'Hara \\ Sons"})
    assert crm.find_account(account) == by_name
    ours = crm.upsert_account(account, idempotency_key="k").id
    assert crm.find_account(account) == ours
