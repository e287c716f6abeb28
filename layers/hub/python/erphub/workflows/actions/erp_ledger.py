"""The ERP adapter's side of ERP posting (erphub.erp_posting sends them, in order per customer): billing's
invoices and payments booked in the ERP. Every posting is keyed by the billing record, so posting the same
invoice twice (finalized, then paid) books one ERP invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.canonical import Invoice, Payment
from erphub.connectors.interfaces import ErpInvoice, ErpPayment, OrderLine
from erphub.errors import NotFound
from erphub.store.identity_table import IdentityStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run
from erphub.workflows.systems import connector, vendor


def ledger_key(billing_system: str, invoice_id: str) -> str:
    return f"posting:{billing_system}:{invoice_id}"


def _erp_customer(billing_system: str, billing_customer_id: str) -> str:
    identity = IdentityStore()
    owner = identity.entity_of_xref(billing_system, billing_customer_id)
    if owner is None:
        raise NotFound(f"{billing_system} customer {billing_customer_id} is not activated in the hub yet",
                       system="erp", record=billing_customer_id)
    customer_id, entity = owner
    erp_id = identity.xrefs(customer_id).get(f"{vendor('erp')}/{entity}")
    if erp_id is None:
        raise NotFound(f"customer {customer_id}/{entity} is not in the ERP yet", system="erp", record=customer_id)
    return erp_id


@action("erp.post_invoice")
def post_invoice(run: Run) -> dict[str, Any]:
    invoice = run.data(Invoice)
    erp, billing_system = connector("erp"), run.envelope.source
    lines = [OrderLine(sku=line.sku or "billing-charge", quantity=line.quantity or Decimal(1),
                       rate=(line.amount / (line.quantity or Decimal(1))).quantize(Decimal("0.01")),
                       description=line.description) for line in invoice.lines if line.amount]
    lines = lines or [OrderLine(sku="billing-charge", rate=invoice.total, description=invoice.number)]
    customer = _erp_customer(billing_system, invoice.customer_id)
    ref = erp.post_invoice(ErpInvoice(
        customer_external_id=customer, currency=invoice.currency, lines=lines,
        tran_date=invoice.issued_at.date() if invoice.issued_at else None,
        due_date=invoice.due_at.date() if invoice.due_at else None, memo=f"{billing_system} {invoice.number or ''}"),
        idempotency_key=f"{ledger_key(billing_system, invoice.invoice_id)}:erp.invoice")
    # the contract whose subscription billed it (the identity cross-reference): its order-to-cash milestone
    linked = IdentityStore().contract_of(billing_system, "subscription", invoice.subscription_id) \
        if invoice.subscription_id else None
    WorkflowStore().record_created(ledger_key(billing_system, invoice.invoice_id), erp.system, "invoice",
                                   invoice.invoice_id, ref.external_id or ref.id, customer=customer,
                                   **({"contract_id": linked[0]} if linked else {}))
    return {"invoice": ref.external_id or ref.id}


@action("erp.post_payment")
def post_payment(run: Run) -> dict[str, Any]:
    """A payment whose invoice is not in the ERP yet raises NotFound: the queue retries it, in order."""
    payment = run.data(Payment)
    if payment.status != "succeeded":
        return {"skipped": f"payment {payment.payment_id} {payment.status}"}
    erp, billing_system = connector("erp"), run.envelope.source
    posted = WorkflowStore().created(ledger_key(billing_system, payment.invoice_id or "-"), "invoice")
    if payment.invoice_id and not posted:
        raise NotFound(f"invoice {payment.invoice_id} of payment {payment.payment_id} is not in the ERP yet",
                       system="erp", record=payment.payment_id)
    customer = posted[0]["customer"] if posted else _erp_customer(billing_system, payment.customer_id or "")
    ref = erp.post_payment(ErpPayment(
        customer_external_id=customer, amount=payment.amount, currency=payment.currency,
        invoice_external_id=posted[0]["record_id"] if posted else None,
        tran_date=payment.paid_at.date() if payment.paid_at else None, memo=f"{billing_system} {payment.payment_id}"),
        idempotency_key=f"posting:{billing_system}:{payment.payment_id}:erp.payment")
    # the ledger entry is the payment's record of sync (the KPI projection closes "payments awaiting sync" on it)
    linked = {"contract_id": posted[0]["contract_id"], "invoice_id": payment.invoice_id} \
        if posted and posted[0].get("contract_id") else {}
    WorkflowStore().record_created(ledger_key(billing_system, payment.payment_id), erp.system, "payment",
                                   payment.payment_id, ref.external_id or ref.id, customer=customer, **linked)
    if payment.invoice_id and posted:  # the invoice's own ledger lists its payments (reconciliation reads them)
        WorkflowStore().record_created(ledger_key(billing_system, payment.invoice_id), erp.system, "invoice_payment",
                                       payment.payment_id, ref.external_id or ref.id)
    return {"payment": ref.external_id or ref.id}
