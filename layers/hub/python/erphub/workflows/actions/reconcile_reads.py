"""What scheduled reconciliation (erphub.reconciliation) reads of one contract, served by the billing and ERP
adapters so each system's reads count against its adapter's concurrency budget like every other call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erphub.workflows.actions import action
from erphub.workflows.actions.erp import _booked_lines
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
