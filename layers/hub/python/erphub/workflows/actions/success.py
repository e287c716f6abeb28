"""Customer-success adapter actions: onboarding, adoption plan, renewal, offboarding."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from erphub import mastering
from erphub.canonical import Contract
from erphub.connectors.interfaces import Milestone, OnboardingPlan
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run, entities
from erphub.workflows.systems import connector

INITIAL_HEALTH = Decimal(70)


def _milestones(start: date) -> list[Milestone]:
    return [Milestone(name=name, due_date=start + timedelta(days=days)) for name, days in
            (("Kickoff", 7), ("Integrations live", 30), ("First value", 60), ("Adoption review", 90))]


@action("success.onboard")
def onboard(run: Run) -> dict[str, Any]:
    """Company, onboarding plan with milestones, initial health score, adoption plan with the usage terms."""
    success, contract = connector("success"), run.contract
    company = success.upsert_company(contract.account, idempotency_key=run.step_key("success.company"))
    IdentityStore().link(run.customer_id, success.system, company.id)
    WorkflowStore().record_created(run.correlation_id, success.system, "company", "-", company.id)
    plan = success.create_onboarding_plan(company.id, OnboardingPlan(
        name=f"Onboarding {contract.account.name}", milestones=_milestones(contract.term_start or date.today()),
        owner_email=contract.owner_email), idempotency_key=run.step_key("success.onboarding"))
    # the adoption plan starts from what was sold: seats, modules and the usage allowance before overage; it goes
    # with the initial health in one update of the company (one vendor request, not two)
    adoption = mastering.check_write("adoption_plan", adoption_fields(run), "crm")
    success.set_health(company.id, risk_level="low", health_score=INITIAL_HEALTH, reason="new customer",
                       adoption=adoption.allowed)
    return {"company": company.id, "plan": plan.id}


def _company(run: Run) -> str:
    success = connector("success")
    return run.result("identity").get("xrefs", {}).get(success.system) or run.contract.account.account_id


def usage_terms(contract: Contract) -> str:
    """What the customer may use before overage, per entity, in the entity's currency: what success managers
    watch adoption against (and warn of an overage bill before it comes)."""
    first = entities(contract)[0]
    currencies = {e.entity_id: e.currency or contract.currency for e in entities(contract)}
    terms = []
    metered = [(i, i.usage) for i in contract.items if i.usage is not None]
    for item, usage in sorted(metered, key=lambda pair: (pair[0].legal_entity_id or "", pair[0].sku)):
        entity = item.legal_entity_id or first.entity_id
        terms.append(f"{entity} {item.sku} {usage.metric}: {usage.included_quantity} {usage.unit} included per "
                     f"{usage.period or contract.billing_frequency or 'annual'} period, then "
                     f"{usage.overage_unit_price} {usage.currency or currencies.get(entity) or ''} per {usage.unit}")
    return "; ".join(terms)


def adoption_fields(run: Run) -> dict[str, Any]:
    contract = run.contract
    seats = sum((i.quantity for i in contract.items if i.usage is None), Decimal(0))
    return {"seats": str(seats), "modules": ",".join(sorted({i.sku for i in contract.items})),
            "billing_frequency": str(contract.billing_frequency or ""), "usage_terms": usage_terms(contract)}


@action("success.update_adoption")
def update_adoption(run: Run) -> dict[str, Any]:
    verdict = mastering.check_write("adoption_plan", adoption_fields(run), "crm")
    connector("success").update_adoption_plan(_company(run), verdict.allowed)
    return {"company": _company(run), "fields": sorted(verdict.allowed)}


@action("success.renewal")
def renewal(run: Run) -> dict[str, Any]:
    term_end = run.contract.term_end
    fields = {**adoption_fields(run), "renewal_term_end": term_end.isoformat() if term_end else None}
    verdict = mastering.check_write("adoption_plan", fields, "crm")
    connector("success").update_adoption_plan(_company(run), verdict.allowed)
    return {"company": _company(run)}


@action("success.offboard")
def offboard(run: Run) -> dict[str, Any]:
    reason = getattr(run.envelope.data, "reason", None)
    ref = connector("success").start_offboarding(_company(run), reason=reason,
                                                 idempotency_key=run.step_key("success.offboarding"))
    return {"offboarding": ref.id}
