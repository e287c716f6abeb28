"""The projection's gauges as CloudWatch metrics, for the dashboard and the alarms (docs/kpis.md).

What waits for the ERP (orders for their sales order, invoices and payments for their sync) is exact in the
projection's sparse `pending` index; the KPI projector publishes it on a schedule, so the figure is there every
period even when nothing happens (a stuck order must keep its alarm raised while no new record arrives).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from erphub.kpis import projection as p
from erphub.kpis.store import KpiStore, seconds_between
from erphub.observability import emit

# the gauge -> the `kind` the metric carries
GAUGES = {p.ORDER: "order_posting", p.INVOICE: "invoice_sync", p.PAYMENT: "payment_sync"}


def publish(store: KpiStore, now: datetime | None = None) -> dict[str, Any]:
    """Emit `erp_sync_pending` (count) and `erp_sync_oldest_age` (seconds, 0 when none waits) per kind."""
    moment = (now or datetime.now(UTC)).isoformat()
    published: dict[str, Any] = {}
    for gauge, kind in GAUGES.items():
        waiting = store.pending(gauge)
        oldest = seconds_between(waiting[0]["opened_at"], moment) if waiting else 0.0
        emit("erp_sync_pending", len(waiting), kind=kind)
        emit("erp_sync_oldest_age", oldest, "Seconds", kind=kind)
        published[kind] = {"count": len(waiting), "oldest_age_seconds": oldest}
    return published
