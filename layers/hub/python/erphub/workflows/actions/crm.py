"""CRM adapter actions: write activation results and statuses back to the account, and react to risk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from erphub import mastering
from erphub.canonical import Account, CancellationRequest, Contract, OnboardingMilestone, RenewalRisk
from erphub.connectors.interfaces import AccountUpdate, OwnerTask
from erphub.errors import NotFound, Permanent
from erphub.observability import logger
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.actions.quality import mark_applied_if_asked
from erphub.workflows.run import Run
from erphub.workflows.systems import connector


def update_account(run: Run, account_id: str, fields: dict[str, Any], writer: str) -> dict[str, Any]:
    """Write the fields the writer masters; record the others as refused (system of record)."""
    verdict = mastering.check_write("account", fields, writer)
    store = WorkflowStore()
    for refusal in verdict.refused:
        logger.warning("write refused by the system of record", extra=refusal.__dict__)
        store.record_refusal(run.correlation_id, refusal.entity, refusal.field, connector("crm").system,
                             refusal.writer, refusal.master)
    if verdict.allowed:
        connector("crm").update_account(account_id, AccountUpdate(**verdict.allowed))
    return {"account": account_id, "written": sorted(verdict.allowed), "refused": [r.field for r in verdict.refused]}


@action("crm.fetch_deal")
def fetch_deal(run: Run) -> dict[str, Any]:
    """The deal as the CRM holds it, for a CRM whose webhooks carry only ids (HubSpot): amount, currency,
    company, legal entities and line items, read before the data-quality gate. The result replaces the
    event's data; the webhook's company is only a hint (the deal's primary company wins)."""
    crm, data = connector("crm"), run.envelope.data
    if crm.system != run.envelope.source or not hasattr(crm, "fetch_deal"):
        raise Permanent(f"a {run.envelope.source} deal cannot be read from CRM_VENDOR={crm.system}",
                        system=crm.system, record=run.envelope.business_key)
    deal_id = run.envelope.business_key
    hint = getattr(getattr(data, "account", None), "account_id", "")
    contract = crm.fetch_deal(deal_id, hint)
    logger.info("deal fetched from the CRM", extra={"deal": deal_id, "items": len(contract.items)})
    return contract.model_dump(mode="json")


UPSERTED = "upserted"  # xref entity of a CRM account the hub had to create (the deal came from elsewhere)


def _account_id(run: Run) -> str:
    crm = connector("crm").system
    xrefs = run.result("identity").get("xrefs", {})
    account = xrefs.get(f"{crm}/{UPSERTED}") or xrefs.get(crm)
    if account:
        return str(account)
    data = run.envelope.data
    if isinstance(data, Contract):  # a deal: its account's CRM id, else the id the account holds for this CRM
        return data.account.account_id or data.account.external_ids.get(crm, "")
    if isinstance(data, RenewalRisk | CancellationRequest | OnboardingMilestone | Account):
        return data.external_ids.get(crm, "")
    return ""  # invoices, payments, usage and outcomes carry no CRM account


@action("crm.activate_account")
def activate_account(run: Run) -> dict[str, Any]:
    """The other systems' ids and the activated status, back on the CRM account."""
    crm = connector("crm")
    xrefs = IdentityStore().xrefs(run.customer_id)
    ids: dict[str, list[str]] = {}
    for key, value in sorted(xrefs.items()):  # one field per system: "cus_1" or "LE-US=cus_1;LE-DE=cus_2"
        system, _, entity = key.partition("/")
        if system != crm.system and entity != UPSERTED:
            ids.setdefault(system, []).append(f"{entity}={value}" if entity else value)
    fields = {"lifecycle_status": "active", "external_ids": {k: ";".join(v) for k, v in ids.items()}}
    try:
        written = update_account(run, _account_id(run), fields, "hub")
    except NotFound:  # the deal's account is not in this CRM: find it (by key, domain or name) before creating it
        account_id = crm.find_account(run.contract.account)
        if account_id is None:
            account_id = crm.upsert_account(run.contract.account, idempotency_key=run.step_key("crm.account")).id
        IdentityStore().link(run.customer_id, crm.system, account_id, UPSERTED)
        written = update_account(run, account_id, fields, "hub")
    return {**written, **mark_applied_if_asked(run)}


@action("crm.set_status")
def set_status(run: Run) -> dict[str, Any]:
    written = update_account(run, _account_id(run), {"lifecycle_status": run.field("status", "active")}, "hub")
    return {**written, **mark_applied_if_asked(run)}


@action("crm.risk")
def renewal_risk(run: Run) -> dict[str, Any]:
    """Renewal-risk signal: risk, health and account plan on the account; a task for its owner."""
    risk = run.data(RenewalRisk)
    crm, identity = connector("crm"), IdentityStore()
    customer = identity.customer_for({run.envelope.source: risk.account_id, **risk.external_ids})
    xrefs = identity.xrefs(customer) if customer else {}
    account_id = xrefs.get(f"{crm.system}/{UPSERTED}") or xrefs.get(crm.system) or risk.external_ids.get(crm.system)
    if not account_id:
        raise NotFound(f"no {crm.system} account for {risk.account_id}", system=crm.system, record=risk.account_id)
    plan = {"high": "save plan: exec sponsor call, adoption workshop", "medium": "adoption review"}.get(
        risk.risk_level, "business as usual")
    written = update_account(run, account_id, {"renewal_risk": risk.risk_level, "health_score": risk.health_score,
                                               "account_plan": plan}, run.envelope.source)
    task = None
    if risk.risk_level in ("medium", "high"):
        task = crm.create_task(account_id, OwnerTask(
            subject=f"Renewal risk {risk.risk_level}: {risk.account_name or account_id}",
            description=risk.reason, due_date=date.today() + timedelta(days=7),
            priority="high" if risk.risk_level == "high" else "normal"),
            idempotency_key=f"{run.correlation_id}:crm.risk_task:{run.envelope.event_id}").id
    result = {**written, "task": task}
    WorkflowStore().record_signal(run.correlation_id, "renewal_risk", crm.system, result)
    return result
