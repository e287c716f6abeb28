"""Gainsight: data-object APIs with the accesskey header; lookup before insert."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erphub.canonical import Account
from erphub.connectors.gainsight import GainsightSuccess
from erphub.connectors.interfaces import Milestone, OnboardingPlan
from erphub.errors import NotFound, Permanent, Transient, ValidationFailed

pytestmark = pytest.mark.integration


def test_company_plan_health_adoption_and_offboarding(sandbox, connect):
    cs = connect(GainsightSuccess)
    company = cs.upsert_company(Account(account_id="sf-001", name="Acme", industry="Retail"), idempotency_key="k")
    again = cs.upsert_company(Account(account_id="sf-001", name="Acme Inc"), idempotency_key="k")
    assert company.id == again.id and len(sandbox.records("gainsight", "Company")) == 1
    plan = OnboardingPlan(name="Acme onboarding", milestones=[Milestone(name="Kickoff", due_date=date(2025, 1, 10)),
                                                              Milestone(name="Go-live")])
    first = cs.create_onboarding_plan("sf-001", plan, idempotency_key="corr-1:plan")
    second = cs.create_onboarding_plan(company.id, plan, idempotency_key="corr-1:plan")
    assert first.id == second.id
    assert len(sandbox.records("gainsight", "Onboarding_Plan__gc")) == 1
    assert len(sandbox.records("gainsight", "Onboarding_Milestone__gc")) == 2
    cs.set_health(company.id, risk_level="high", health_score=Decimal(35), reason="usage dropped")
    cs.update_adoption_plan(company.id, {"seats_active": 40})
    cs.start_offboarding(company.id, reason="churned", idempotency_key="corr-2:offboard")
    stored = sandbox.records("gainsight", "Company")[0]
    assert stored["Renewal_Risk__gc"] == "high" and stored["Health_Score__gc"] == 35
    assert stored["Adoption_Seats_Active__gc"] == 40 and stored["Stage"] == "Offboarding"
    assert len(sandbox.records("gainsight", "Offboarding_Request__gc")) == 1


def test_errors_are_typed(sandbox, connect):
    cs = connect(GainsightSuccess, max_attempts=1)
    with pytest.raises(NotFound):
        cs.set_health("unknown-company", risk_level="low")
    with pytest.raises(ValidationFailed, match="GS_2101"):
        cs.upsert_company(Account(account_id="sf-2", name=""), idempotency_key="k")
    sandbox.faults.inject("gainsight", "Company.query", kind="500")
    with pytest.raises(Transient, match="GS_5000"):
        cs.upsert_company(Account(account_id="sf-3", name="x"), idempotency_key="k")


def test_a_wrong_access_key_is_refused(connect, rotate):
    rotate("gainsight", access_key="nope")
    cs = connect(GainsightSuccess)
    with pytest.raises(Permanent, match="GS_0401"):
        cs.upsert_company(Account(account_id="sf-1", name="x"), idempotency_key="k")


def test_a_plans_milestones_take_one_query_and_one_insert(sandbox, connect, monkeypatch):
    # Given a company and a plan of five milestones, two of which an earlier attempt created
    cs = connect(GainsightSuccess)
    company = cs.upsert_company(Account(account_id="sf-9", name="Nine"), idempotency_key="k")
    milestones = [Milestone(name=f"Step {n}") for n in range(1, 6)]
    cs.create_onboarding_plan(company.id, OnboardingPlan(name="Nine", milestones=milestones[:2]),
                              idempotency_key="corr-9:plan")
    seen: list[str] = []
    serve = sandbox.serve
    monkeypatch.setattr(sandbox, "serve", lambda vendor, request: seen.append(request.path) or serve(vendor, request))
    # When the whole plan is created
    cs.create_onboarding_plan(company.id, OnboardingPlan(name="Nine", milestones=milestones),
                              idempotency_key="corr-9:plan")
    # Then the plan is found, the milestones are looked up once and the three missing inserted in one call
    assert seen == ["/v1/data/objects/query/Onboarding_Plan__gc", "/v1/data/objects/query/Onboarding_Milestone__gc",
                    "/v1/data/objects/Onboarding_Milestone__gc"]
    stored = sandbox.records("gainsight", "Onboarding_Milestone__gc")
    assert sorted(m["Sequence__gc"] for m in stored) == [1, 2, 3, 4, 5]
    # and a replay only looks
    seen.clear()
    cs.create_onboarding_plan(company.id, OnboardingPlan(name="Nine", milestones=milestones),
                              idempotency_key="corr-9:plan")
    assert len(seen) == 2 and len(sandbox.records("gainsight", "Onboarding_Milestone__gc")) == 5


def test_the_sandbox_evaluates_the_query_operators_it_accepts(sandbox, connect):
    cs = connect(GainsightSuccess, max_attempts=1)
    for key in ("a", "b", "c"):
        cs.upsert_company(Account(account_id=key, name=key.upper()), idempotency_key="k")

    def names(operator: str, values: list[str]) -> list[str]:
        data = cs._call("POST", "/v1/data/objects/query/Company", {
            "select": ["Name"], "where": {"conditions": [{"name": "Name", "alias": "A", "value": values,
                                                          "operator": operator}], "expression": "A"}, "limit": 10})
        return sorted(r["Name"] for r in data["records"])

    assert names("IN", ["A", "C"]) == ["A", "C"] and names("EQ", ["B"]) == ["B"]
    assert names("NOT_IN", ["A", "C"]) == ["B"] and names("NE", ["B"]) == ["A", "C"]
    with pytest.raises(ValidationFailed, match="does not evaluate"):
        names("STARTS_WITH", ["A"])


def test_health_and_adoption_go_in_one_company_update(sandbox, connect, every_request_meets_its_contract):
    cs = connect(GainsightSuccess)
    company = cs.upsert_company(Account(account_id="sf-3", name="Initech"), idempotency_key="k")
    sent = every_request_meets_its_contract
    before = len(sent)
    cs.set_health(company.id, risk_level="low", health_score=Decimal(70), reason="new customer",
                  adoption={"seats_active": 12})
    assert len(sent) - before == 1, [f"{r.method} {r.url}" for r in sent[before:]]
    stored = sandbox.records("gainsight", "Company")[0]
    assert stored["Health_Score__gc"] == 70 and stored["Adoption_Seats_Active__gc"] == 12
