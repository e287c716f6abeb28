"""Every KPI of docs/kpis.md, computed from the projection for a window (24 h or 7 d) ending now.

Gauges (what waits now) are one Query of the sparse `pending` index each; rates and durations read the window's
facts (one Query per day). Percentiles are nearest-rank: the p-th of n sorted values is the ceil(p/100*n)-th.
A KPI without an honest source in the hub's records is listed under `unavailable` with the reason, never guessed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from erphub.kpis import cycle, vendor_calls
from erphub.kpis import projection as p
from erphub.kpis.store import KpiStore, seconds_between

WINDOWS = {"24h": (timedelta(hours=24), timedelta(hours=1)), "7d": (timedelta(days=7), timedelta(days=1))}
UNAVAILABLE = {
    "webhook_refusals": "refused webhooks (401/400/404/413) leave nothing behind by design (DESIGN rule 3); they "
                        "are counted only by API Gateway's 4XX metrics, not in the hub's records",
    "workflow_task_retries": "Step Functions Task retries (Retry blocks) are not recorded by the hub; "
                             "retry_volume counts the queue deliveries that failed and were retried",
}


def percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)), 1) - 1]


def durations(facts: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [float(f["seconds"]) for f in facts]
    return {"count": len(seconds), "p50_seconds": percentile(seconds, 50), "p95_seconds": percentile(seconds, 95)}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class Window:
    """The facts and gauges of one window, read once."""

    def __init__(self, store: KpiStore, window: str, now: datetime | None = None) -> None:
        length, self.step = WINDOWS[window]
        self.now = now or datetime.now(UTC)
        self.since = self.now - length
        self.store, self.name = store, window
        self.facts = {name: store.facts(name, self.since, self.now) for name in
                      (p.WEBHOOK, p.EVENT_LAG, p.POSTED, p.EXC_OPENED, p.EXC_RESOLVED, p.RUN_ENDED,
                       p.FAILED_DELIVERY, cycle.O2C_INVOICED, cycle.O2C_PAID)}
        self.pending = {gauge: store.pending(gauge) for gauge in (p.ORDER, p.INVOICE, p.PAYMENT, p.EXCEPTION, p.RUN)}

    def gauge(self, gauge: str) -> dict[str, Any]:
        waiting = self.pending[gauge]
        oldest = seconds_between(waiting[0]["opened_at"], self.now.isoformat()) if waiting else None
        return {"count": len(waiting), "oldest_age_seconds": oldest}

    def open_exceptions(self, kind: str) -> int:
        return sum(1 for e in self.pending[p.EXCEPTION] if e.get("kind") == kind)


def build(store: KpiStore, window: str = "24h", now: datetime | None = None) -> dict[str, Any]:
    w = Window(store, window, now)
    return {"window": window, "since": w.since.isoformat(), "generated_at": w.now.isoformat(),
            "business": business(w), "technical": technical(w), "series": series(w), "unavailable": UNAVAILABLE}


def business(w: Window) -> dict[str, Any]:
    invoices = [f for f in w.facts[p.POSTED] if f["gauge"] == p.INVOICE]
    return {
        "orders_pending_erp_posting": w.gauge(p.ORDER),
        "invoices_awaiting_erp_sync": w.gauge(p.INVOICE),
        "payments_awaiting_erp_sync": w.gauge(p.PAYMENT),
        "renewals_lacking_billing_alignment": w.open_exceptions("billing_alignment"),
        "unresolved_identity_conflicts": w.open_exceptions("identity_conflict"),
        "manual_intervention": manual_intervention(w),
        "invoice_posting_timeliness": durations(invoices),
        "order_to_cash_cycle": order_to_cash(w),
        "renewal_completion": completion(w, "renewal"),
        "reconciliation": reconciliation(w),
        "customer_data_quality": data_quality(w),
    }


def order_to_cash(w: Window) -> dict[str, Any]:
    """Contracts whose first invoice was posted in the window (won -> invoiced), and whose first invoice's payment
    was posted in the window (invoiced -> paid, and the whole cycle won -> paid)."""
    paid = w.facts[cycle.O2C_PAID]
    return {"won_to_invoiced": durations(w.facts[cycle.O2C_INVOICED]), "invoiced_to_paid": durations(paid),
            "won_to_paid": durations([{"seconds": f["total_seconds"]} for f in paid])}


def manual_intervention(w: Window) -> dict[str, Any]:
    """Transactions: workflow runs ended in the window or still open; needing one: those with an exception."""
    runs = {f["id"] for f in w.facts[p.RUN_ENDED]} | {r["sk"] for r in w.pending[p.RUN]}
    touched = {f.get("correlation_id") for f in w.facts[p.EXC_OPENED]} | \
              {e.get("correlation_id") for e in w.pending[p.EXCEPTION]}
    needing = sum(1 for run in runs if _correlation(run) in touched)
    return {"open_by_kind": dict(sorted(Counter(e.get("kind", "") for e in w.pending[p.EXCEPTION]).items())),
            "transactions": len(runs), "needing_intervention": needing, "share": _ratio(needing, len(runs))}


def _correlation(run_id: str) -> str:
    """A run's id is its correlation id + ":" + its status item's key (one status item per run)."""
    return run_id.rsplit(":STATUS", 1)[0]


def completion(w: Window, workflow: str) -> dict[str, Any]:
    ended = [f for f in w.facts[p.RUN_ENDED] if f.get("workflow") == workflow]
    done = sum(1 for f in ended if f["status"] == "completed")
    return {"ended": len(ended), "completed": done, "rate": _ratio(done, len(ended))}


def reconciliation(w: Window) -> dict[str, Any]:
    kind = "reconciliation_mismatch"
    resolved = [f for f in w.facts[p.EXC_RESOLVED] if f.get("kind") == kind]
    return {"opened": sum(1 for f in w.facts[p.EXC_OPENED] if f.get("kind") == kind), "resolved": len(resolved),
            "open": w.open_exceptions(kind), "time_to_resolve": durations(resolved)}


def data_quality(w: Window) -> dict[str, Any]:
    """Customer records checked: activations ended in the window; passing: no data-quality exception opened."""
    activations = {f["id"] for f in w.facts[p.RUN_ENDED] if f.get("workflow") == "activation"}
    failing = {f.get("correlation_id") for f in w.facts[p.EXC_OPENED] if f.get("kind") == "data_quality"}
    passed = sum(1 for run in activations if _correlation(run) not in failing)
    return {"checked": len(activations), "passed": passed, "share": _ratio(passed, len(activations))}


def technical(w: Window) -> dict[str, Any]:
    webhooks: dict[str, Counter[str]] = defaultdict(Counter)
    for fact in w.facts[p.WEBHOOK]:
        webhooks[fact["source"]][fact["outcome"]] += 1
    sync: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fact in w.facts[p.POSTED]:
        if fact.get("system"):
            sync[fact["system"]].append(fact)
    return {
        "webhooks": {source: _rates(counts) for source, counts in sorted(webhooks.items())},
        "event_lag": durations(w.facts[p.EVENT_LAG]),
        "workflow_backlog": dict(sorted(Counter(r.get("workflow", "") for r in w.pending[p.RUN]).items())),
        "sync_latency": {system: durations(facts) for system, facts in sorted(sync.items())},
        "retry_volume": retry_volume(w.facts[p.FAILED_DELIVERY]),
        "api_error_rates": vendor_calls.error_rates(w.store.ddb, w.store.table, w.since, w.now),
    }


def retry_volume(failed: list[dict[str, Any]]) -> dict[str, Any]:
    """Queue deliveries that failed in the window (each retried by SQS, or dead-lettered at the end)."""
    return {"failed_deliveries": len(failed),
            "by_queue": dict(sorted(Counter(f["queue"] for f in failed).items())),
            "by_error": dict(sorted(Counter(f.get("error_type") or "-" for f in failed).items()))}


def _rates(counts: Counter[str]) -> dict[str, Any]:
    received = sum(counts.values())
    accepted = received - counts["quarantined"] - counts["ignored"]  # accepted items become "published"
    return {"received": received, "accepted": accepted, "ignored": counts["ignored"],
            "quarantined": counts["quarantined"], "accept_rate": _ratio(accepted, received),
            "quarantine_rate": _ratio(counts["quarantined"], received), "refused": None}


def series(w: Window) -> dict[str, Any]:
    """Counts per hour (24h) or per day (7d), oldest bucket first, for the console's charts."""
    count = int((w.now - w.since) / w.step)
    starts = [w.since + w.step * i for i in range(count)]

    def buckets(facts: list[dict[str, Any]]) -> list[int]:
        counts = [0] * count
        for fact in facts:
            index = int((datetime.fromisoformat(fact["at"]) - w.since) / w.step)
            counts[min(max(index, 0), count - 1)] += 1
        return counts

    hooks = w.facts[p.WEBHOOK]
    return {"bucket_starts": [s.isoformat() for s in starts],
            "webhooks_accepted": buckets([f for f in hooks if f["outcome"] not in ("quarantined", "ignored")]),
            "webhooks_quarantined": buckets([f for f in hooks if f["outcome"] == "quarantined"]),
            "erp_postings": buckets(w.facts[p.POSTED]),
            "exceptions_opened": buckets(w.facts[p.EXC_OPENED]),
            "runs_ended": buckets(w.facts[p.RUN_ENDED])}
