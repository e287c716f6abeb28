"""Totango: account attributes by the HTTP (SDR) API, an upsert; onboarding and offboarding tasks by the Tasks
API with the app-token header. Every request is checked against tests/contracts/totango by the sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erphub.canonical import Account
from erphub.connectors.interfaces import Milestone, OnboardingPlan
from erphub.connectors.totango import TotangoSuccess
from erphub.errors import Permanent, RateLimited, Transient

pytestmark = pytest.mark.integration


def test_account_plan_health_adoption_and_offboarding(sandbox, connect):
    # Given Totango
    cs = connect(TotangoSuccess)
    # When the hub upserts an account twice (its CRM id has a character Totango ids refuse), plans onboarding,
    # sets health and adoption and starts offboarding
    company = cs.upsert_company(Account(account_id="001-ACME", name="Acme", industry="Retail"), idempotency_key="k")
    again = cs.upsert_company(Account(account_id="001-ACME", name="Acme Inc"), idempotency_key="k")
    plan = OnboardingPlan(name="Acme onboarding", owner_email="csm@example.com",
                          milestones=[Milestone(name="Kickoff", due_date=date(2025, 1, 10)), Milestone(name="Go-live")])
    cs.create_onboarding_plan(company.id, plan, idempotency_key="corr-1:plan")
    cs.set_health(company.id, risk_level="high", health_score=Decimal("35.5"), reason="usage dropped")
    cs.update_adoption_plan(company.id, {"seats_active": 40})
    cs.start_offboarding(company.id, reason="churned", idempotency_key="corr-2:offboard")
    # Then Totango holds one account with the attributes, and the tasks of the plan and the offboarding
    assert company.id == again.id == "001_ACME" and sandbox.violations == []
    [account] = sandbox.records("totango", "account")
    assert account["name"] == "Acme Inc"
    attributes = account["attributes"]
    assert attributes["Renewal Risk"] == "high" and attributes["Erphub Health Score"] == "35.5"
    assert attributes["Adoption Seats Active"] == "40" and attributes["Lifecycle Stage"] == "Offboarding"
    assert attributes["Onboarding Milestones"] == "Kickoff by 2025-01-10; Go-live"
    tasks = sandbox.records("totango", "task")
    assert [(t["title"], t.get("due_date"), t.get("assignee")) for t in tasks] == [
        ("Onboarding: Acme onboarding", "2025-01-10", "csm@example.com"), ("Offboarding", None, None)]


def test_a_wrong_service_id_is_silent_at_the_gateway_and_caught_at_the_task(sandbox, connect, rotate):
    # Given a secret with another service's id: the SDR gateway answers 200 to anything well-formed
    rotate("totango", app_token=sandbox.credentials("totango")["app_token"], service_id="SP-9999-99")
    cs = connect(TotangoSuccess, max_attempts=1)
    # When offboarding starts, Then the account never reached Totango and the task says so
    with pytest.raises(Permanent, match="Account not found"):
        cs.start_offboarding("acct_1", reason=None, idempotency_key="k")
    assert sandbox.records("totango", "account") == []


def test_faults_are_typed_and_the_upsert_is_retried(sandbox, connect):
    cs = connect(TotangoSuccess)
    sandbox.faults.inject("totango", "sdr.track", kind="503", times=1)
    cs.set_health("acct_1", risk_level="low")  # an upsert: retried in the call
    assert sandbox.records("totango", "account")[0]["attributes"]["Renewal Risk"] == "low"
    cs.upsert_company(Account(account_id="acct_2", name="B"), idempotency_key="k")
    sandbox.faults.inject("totango", "task.create", kind="429", times=1, retry_after=30)
    with pytest.raises(RateLimited):
        cs.start_offboarding("acct_2", reason=None, idempotency_key="k")
    sandbox.faults.inject("totango", "task.create", kind="500", times=1)
    with pytest.raises(Transient):  # a task create is not repeated in the call: Totango takes no key for it
        cs.start_offboarding("acct_2", reason=None, idempotency_key="k")
    assert sandbox.records("totango", "task") == []


def test_a_wrong_app_token_is_refused(connect, rotate):
    rotate("totango", app_token="nope", service_id="SP-0000-11")
    cs = connect(TotangoSuccess)
    with pytest.raises(Permanent, match="app-token"):
        cs.start_offboarding("acct_1", reason=None, idempotency_key="k")


def test_health_and_adoption_go_in_one_attribute_update(sandbox, connect, every_request_meets_its_contract):
    cs = connect(TotangoSuccess)
    sent = every_request_meets_its_contract
    cs.set_health("acct_3", risk_level="low", health_score=Decimal(70), reason="new customer",
                  adoption={"seats_active": 12})
    assert len(sent) == 1, [f"{r.method} {r.url}" for r in sent]
    attributes = sandbox.records("totango", "account")[0]["attributes"]
    assert attributes["Renewal Risk"] == "low" and attributes["Adoption Seats Active"] == "12"
