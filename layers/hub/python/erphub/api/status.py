"""GET /api/v1/{customers,contracts,orders,invoices,workflows}/{id}: where a record stands across systems - each
system's id and state, the current workflow and its step, open exceptions - from the hub's records only (no vendor
call: these answer within the latency budget whatever the vendors do)."""

from __future__ import annotations

from typing import Any

from erphub.api.accounts import crm_system
from erphub.api.models import OpenException, StatusLookup, SystemRecord, WorkflowState
from erphub.errors import NotFound
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions.erp_ledger import ledger_key as posting_key
from erphub.workflows.systems import vendor


def contract_correlation(contract_id: str) -> str:
    from erphub.canonical import correlation_id_for

    return correlation_id_for("contract", crm_system(), contract_id)


def customer(customer_id: str) -> StatusLookup:
    identity = IdentityStore()
    xrefs = identity.xrefs(customer_id)
    contracts = identity.customer_contracts(customer_id)
    if not xrefs and not contracts:
        raise NotFound(f"no customer {customer_id}", system="hub", record=customer_id)
    systems = [SystemRecord(system=key.split("/")[0], kind="customer", id=value,
                            legal_entity_id=key.split("/", 1)[1] if "/" in key else None)
               for key, value in xrefs.items()]
    runs = [run for c in contracts if (run := _workflow(contract_correlation(c)))]
    exceptions = [e for c in contracts for e in _exceptions(contract_correlation(c))]
    return StatusLookup(kind="customer", id=customer_id, customer_id=customer_id, systems=systems, workflows=runs,
                        workflow=runs[-1] if runs else None, open_exceptions=exceptions,
                        state="waiting" if exceptions else ("active" if systems else "known"))


def contract(contract_id: str, kind: str = "contract", looked_up: str | None = None) -> StatusLookup:
    identity, ledger = IdentityStore(), WorkflowStore()
    correlation = contract_correlation(contract_id)
    links, run = identity.contract_links(contract_id), _workflow(correlation)
    if not links and run is None:
        raise NotFound(f"no {kind} {looked_up or contract_id}", system="hub", record=looked_up or contract_id)
    states = {(r["system"], r["record_id"]): r.get("state") for r in ledger.created(correlation)}
    systems = [SystemRecord(system=link["system"], kind=link["kind"], id=link["record_id"],
                            legal_entity_id=None if link["entity"] == "-" else link["entity"],
                            state=states.get((link["system"], link["record_id"]))) for link in links]
    exceptions = _exceptions(correlation)
    customer_id = identity.contract_customer(contract_id)
    return StatusLookup(kind=kind, id=looked_up or contract_id, customer_id=customer_id, systems=systems,
                        workflow=run, workflows=[run] if run else [], open_exceptions=exceptions,
                        state=_state(run, exceptions))


def order(order_id: str) -> StatusLookup:
    found = IdentityStore().contract_of(vendor("erp"), "sales_order", order_id)
    if found is None:
        raise NotFound(f"no order {order_id} in {vendor('erp')}", system="hub", record=order_id)
    return contract(found[0], kind="order", looked_up=order_id)


def invoice(invoice_id: str) -> StatusLookup:
    """A billing invoice and its posting to the ERP (the posting ledger and its exceptions)."""
    correlation = posting_key(vendor("billing"), invoice_id)
    records = WorkflowStore().created(correlation)
    exceptions = _exceptions(correlation)
    if not records and not exceptions:
        raise NotFound(f"no invoice {invoice_id} from {vendor('billing')} has reached the hub's posting ledger",
                       system="hub", record=invoice_id)
    systems = [SystemRecord(system=vendor("billing"), kind="invoice", id=invoice_id)]
    systems += [SystemRecord(system=r["system"], kind=r["kind"], id=r["record_id"], state=r.get("state"))
                for r in records]
    posted = any(r["kind"] == "invoice" for r in records)
    return StatusLookup(kind="invoice", id=invoice_id, systems=systems, open_exceptions=exceptions,
                        state="posted" if posted else ("waiting" if exceptions else "pending"))


def workflow(correlation_id: str) -> StatusLookup:
    run = _workflow(correlation_id)
    if run is None:
        raise NotFound(f"no workflow {correlation_id}", system="hub", record=correlation_id)
    records = [SystemRecord(system=r["system"], kind=r["kind"], id=r["record_id"], state=r.get("state"),
                            legal_entity_id=None if r["key"] == "-" else r["key"])
               for r in WorkflowStore().created(correlation_id)]
    exceptions = _exceptions(correlation_id)
    return StatusLookup(kind="workflow", id=correlation_id, systems=records, workflow=run, workflows=[run],
                        open_exceptions=exceptions, state=_state(run, exceptions))


def _workflow(correlation_id: str) -> WorkflowState | None:
    found: dict[str, Any] | None = WorkflowStore().status(correlation_id)
    if found is None:
        return None
    return WorkflowState(correlation_id=correlation_id, workflow=found.get("workflow"), status=found["status"],
                         step=found.get("step") or None, reason=found.get("reason"), updated_at=found.get("updated_at"))


def _exceptions(correlation_id: str) -> list[OpenException]:
    return [OpenException(exception_id=e["exception_id"], kind=e["kind"], reason=e["reason"], opened_at=e["opened_at"])
            for e in WorkflowStore().open_exceptions_of(correlation_id)]


def _state(run: WorkflowState | None, exceptions: list[OpenException]) -> str:
    if exceptions:
        return "waiting"
    return run.status if run else "unknown"
