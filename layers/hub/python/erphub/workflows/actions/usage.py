"""Usage aggregation's calls to billing and the ERP (erphub.usage.report): a closed period's total to billing's
metering API, and its overage booked in the ERP. Served by the billing and ERP adapters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from erphub.connectors.interfaces import OrderLine, SalesOrder
from erphub.errors import NotFound, Permanent
from erphub.store.identity import IdentityStore
from erphub.workflows.actions import action
from erphub.workflows.run import Run
from erphub.workflows.systems import connector


@action("billing.report_usage")
def report_usage(run: Run) -> dict[str, Any]:
    """The period's total, once, on the subscription in billing; returns the billing customer and currency."""
    billing = connector("billing")
    metering = getattr(billing, "metering", None)
    if metering is None or not hasattr(metering, "report"):
        raise Permanent(f"usage reporting to {billing.system} is not built (docs/usage.md)", system=billing.system)
    result: dict[str, Any] = metering.report(
        str(run.field("subscription_id")), str(run.field("metric")), Decimal(str(run.field("quantity"))),
        date.fromisoformat(str(run.field("period_end"))), str(run.field("idempotency_key")),
        sku=run.field("sku"))
    return result


@action("erp.book_overage")
def book_overage(run: Run) -> dict[str, Any]:
    """The period's overage as a sales order of the entity's ERP customer, keyed by the period (booked once;
    billing's invoice for it reaches the ERP later through ERP posting, as every invoice does)."""
    erp, billing_system, identity = connector("erp"), str(run.field("billing_system")), IdentityStore()
    customer = str(run.field("billing_customer"))
    owner = identity.entity_of_xref(billing_system, customer)
    if owner is None:
        raise NotFound(f"no hub customer for {billing_system} customer {customer}", system=erp.system, record=customer)
    entity = str(run.field("entity"))
    erp_customer = identity.xrefs(owner[0]).get(f"{erp.system}/{entity}")
    if erp_customer is None:
        raise NotFound(f"customer {owner[0]} has no {erp.system} customer for {entity}", system=erp.system,
                       record=owner[0])
    start, end, metric = str(run.field("period_start")), str(run.field("period_end")), str(run.field("metric"))
    line = OrderLine(sku=str(run.field("sku")), quantity=Decimal(str(run.field("quantity"))),
                     rate=Decimal(str(run.field("rate"))), description=f"usage overage {metric} {start}..{end}",
                     rev_rec_start=date.fromisoformat(start), rev_rec_end=date.fromisoformat(end))
    order = erp.create_sales_order(SalesOrder(
        customer_external_id=erp_customer, currency=str(run.field("currency") or "USD"), lines=[line],
        tran_date=date.fromisoformat(end), memo=f"erphub usage overage {metric} {start}..{end}",
        contract_id=str(run.field("contract_id"))), idempotency_key=str(run.field("idempotency_key")))
    return {"order": order.external_id or order.id}
