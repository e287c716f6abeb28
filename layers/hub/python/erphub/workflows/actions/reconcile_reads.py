"""What scheduled reconciliation (erphub.reconciliation) reads of one contract, served by the billing and ERP
adapters so each system's reads count against its adapter's concurrency budget like every other call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.actions.erp import _booked_lines
from erphub.workflows.actions.erp_ledger import ledger_key
from erphub.workflows.comparisons import PERIODS_PER_YEAR
from erphub.workflows.run import Run
from erphub.workflows.systems import connector


def _records(run: Run) -> tuple[dict[str, str], set[str]]:
    return dict(run.field("records") or {}), set(run.field("usage") or [])


@action("billing.read_subscriptions")
def read_subscriptions(run: Run) -> dict[str, Any]:
    """Per entity: status, billing frequency, licensed quantities, metered items and yearly unit prices."""
    billing, (records, usage) = connector("billing"), _records(run)
    found = {}
    for entity, subscription_id in sorted(records.items()):
        sub = billing.get_subscription(subscription_id)
        periods = PERIODS_PER_YEAR.get(str(sub.billing_frequency or "annual"), 1)
        licensed = [i for i in sub.items if i.sku not in usage and i.quantity]
        found[entity] = {
            "status": sub.status, "ending": sub.cancel_at_period_end, "billing_frequency": sub.billing_frequency,
            "items": {i.sku: str(i.quantity) for i in licensed},
            "metered": sorted(i.sku for i in sub.items if i.sku in usage),
            "prices": {i.sku: None if i.unit_price is None else str(Decimal(i.unit_price) * periods)
                       for i in licensed}}
    return {"entities": found}


@action("erp.read_orders")
def read_orders(run: Run) -> dict[str, Any]:
    """Per entity: the sales order's booked quantities, overage (metered) lines and rates."""
    erp, (records, usage) = connector("erp"), _records(run)
    found = {}
    for entity, order_id in sorted(records.items()):
        lines = _booked_lines(erp, order_id)
        found[entity] = {
            "items": {str(line["sku"]): str(line["quantity"]) for line in lines if line["sku"] not in usage},
            "metered": sorted(str(line["sku"]) for line in lines if line["sku"] in usage),
            "rates": {str(line["sku"]): str(line["rate"]) for line in lines if line["sku"] not in usage}}
    return {"entities": found}


@action("billing.read_invoices")
def read_invoices(run: Run) -> dict[str, Any]:
    """Per entity: the invoices billing issued for the contract's subscription (total, status, issue time)."""
    billing, (records, _) = connector("billing"), _records(run)
    found: dict[str, list[dict[str, Any]]] = {}
    listed: dict[str, list[Any]] = {}  # one list per billing customer, whose entities may share it
    for entity, subscription_id in sorted(records.items()):
        customer = billing.get_subscription(subscription_id).customer_id
        if customer not in listed:
            listed[customer] = billing.list_invoices(customer)
        found[entity] = [{"invoice_id": i.invoice_id, "status": i.status, "total": str(i.total),
                          "amount_paid": None if i.amount_paid is None else str(i.amount_paid),
                          "currency": i.currency, "issued_at": i.issued_at.isoformat() if i.issued_at else None}
                         for i in listed[customer] if i.subscription_id == subscription_id]
    return {"entities": found}


@action("erp.read_invoices")
def read_posted_invoices(run: Run) -> dict[str, Any]:
    """Per billing invoice: the ERP invoice the posting ledger says it became, with its total as the ERP holds it
    (None: never posted). An ERP whose connector cannot read invoice lines answers compared=False."""
    erp, billing_system = connector("erp"), str(run.field("billing_system"))
    if not hasattr(erp, "invoice_lines"):
        return {"compared": False, "invoices": {}}
    found: dict[str, dict[str, str] | None] = {}
    for invoice_id in run.field("invoices") or []:
        posted = WorkflowStore().created(ledger_key(billing_system, invoice_id), "invoice")
        if not posted:
            found[invoice_id] = None
            continue
        found[invoice_id] = _posted_invoice(erp, posted[0]["record_id"], ledger_key(billing_system, invoice_id))
    return {"compared": True, "invoices": found}


def _posted_invoice(erp: Any, record_id: str, ledger: str) -> dict[str, str]:
    """The ERP invoice's total and units from its lines, and the payments the ERP holds against it (those the
    posting ledger applied to it, each read back from the ERP)."""
    lines = erp.invoice_lines(record_id)
    payments = WorkflowStore().created(ledger, "invoice_payment")
    return {"record_id": record_id,
            "total": str(sum((Decimal(str(line["quantity"])) * Decimal(str(line["rate"])) for line in lines),
                             Decimal(0))),
            "units": str(sum((Decimal(str(line["quantity"])) for line in lines), Decimal(0))),
            "paid": str(sum((erp.payment_amount(p["record_id"]) for p in payments), Decimal(0)))}


@action("crm.read_deal_value")
def read_deal_value(run: Run) -> dict[str, Any]:
    """The CRM's closed deal of one version of a contract: {"deal": {"deal_id", "amount", "currency"} | None}.
    An amendment is a deal of its own, so the version names the deal; several of one version (a deal recreated
    in the CRM) are reported as ambiguous rather than compared to a guess."""
    crm = connector("crm")
    version = Decimal(str(run.field("version") or 1))
    deals = [d for d in crm.deals_of_contract(str(run.field("contract_id")))
             if Decimal(str(d.get("version") or 1)) == version and not _lost(d.get("stage"))]
    if len(deals) > 1:
        return {"deal": None, "ambiguous": sorted(d["deal_id"] for d in deals)}
    if not deals:
        return {"deal": None}
    deal = deals[0]
    amount = deal.get("amount")
    return {"deal": {"deal_id": deal["deal_id"], "amount": None if amount in (None, "") else str(amount),
                     "currency": deal.get("currency")}}


def _lost(stage: Any) -> bool:
    """Closed lost (Salesforce's StageName, HubSpot's stage id): never applied, so never the deal compared."""
    return str(stage or "").replace(" ", "").lower() in {"closedlost", "amendmentlost", "renewallost"}
