"""`erphub kpis`: the customer-to-cash KPIs of GET /ops/v1/kpis as a readable table (the JSON with --json)."""

from __future__ import annotations

from typing import Any


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.1f}s"


def share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _percentiles(d: dict[str, Any]) -> str:
    return f"p50 {duration(d['p50_seconds'])}, p95 {duration(d['p95_seconds'])} (n={d['count']})"


def business_rows(b: dict[str, Any]) -> list[tuple[str, str]]:
    def waiting(d: dict[str, Any]) -> str:
        return f"{d['count']} (oldest {duration(d['oldest_age_seconds'])})"

    manual, recon, dq = b["manual_intervention"], b["reconciliation"], b["customer_data_quality"]
    renewals = b["renewal_completion"]
    return [
        ("orders pending ERP posting", waiting(b["orders_pending_erp_posting"])),
        ("invoices awaiting ERP sync", waiting(b["invoices_awaiting_erp_sync"])),
        ("payments awaiting ERP sync", waiting(b["payments_awaiting_erp_sync"])),
        ("renewals lacking billing alignment", str(b["renewals_lacking_billing_alignment"])),
        ("unresolved identity conflicts", str(b["unresolved_identity_conflicts"])),
        ("open exceptions by kind", ", ".join(f"{k} {v}" for k, v in manual["open_by_kind"].items()) or "none"),
        ("transactions needing intervention", f"{manual['needing_intervention']} of {manual['transactions']} "
                                              f"({share(manual['share'])})"),
        ("invoice posting timeliness", _percentiles(b["invoice_posting_timeliness"])),
        ("order to cash: won -> invoiced", _percentiles(b["order_to_cash_cycle"]["won_to_invoiced"])),
        ("order to cash: invoiced -> paid", _percentiles(b["order_to_cash_cycle"]["invoiced_to_paid"])),
        ("order to cash: won -> paid", _percentiles(b["order_to_cash_cycle"]["won_to_paid"])),
        ("renewal completion rate", f"{share(renewals['rate'])} ({renewals['completed']} of {renewals['ended']})"),
        ("reconciliation exceptions", f"opened {recon['opened']}, resolved {recon['resolved']}, open {recon['open']};"
                                      f" time to resolve {_percentiles(recon['time_to_resolve'])}"),
        ("customer data quality", f"{share(dq['share'])} passing ({dq['passed']} of {dq['checked']})"),
    ]


def technical_rows(t: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(f"webhooks {source}", f"{w['received']} received: accepted {share(w['accept_rate'])}, ignored "
                                   f"{w['ignored']}, quarantined {w['quarantined']} ({share(w['quarantine_rate'])})")
            for source, w in t["webhooks"].items()]
    rows.append(("event lag (received -> on the bus)", _percentiles(t["event_lag"])))
    rows.append(("workflow backlog", ", ".join(f"{k} {v}" for k, v in t["workflow_backlog"].items()) or "none"))
    rows += [(f"sync latency {system}", _percentiles(d)) for system, d in t["sync_latency"].items()]
    retries = t["retry_volume"]
    rows.append(("retry volume (failed queue deliveries)", f"{retries['failed_deliveries']}" + "".join(
        f"; {queue} {n}" for queue, n in retries["by_queue"].items())))
    rows += [(f"API error rate {vendor}", f"{share(e['error_rate'])} ({e['errors']} of {e['calls']} calls; "
                                          f"throttled {e['throttles']})") for vendor, e in t["api_error_rates"].items()]
    return rows


def render(kpis: dict[str, Any]) -> str:
    lines = [f"Customer-to-cash KPIs, last {kpis['window']} (since {kpis['since'][:19]}Z)", ""]
    for title, rows in (("BUSINESS", business_rows(kpis["business"])),
                        ("TECHNICAL", technical_rows(kpis["technical"]))):
        lines.append(title)
        lines += [f"  {name:38} {value}" for name, value in rows]
        lines.append("")
    lines.append("NOT MEASURED (no honest source in the hub's records yet)")
    lines += [f"  {name:38} {reason}" for name, reason in kpis["unavailable"].items()]
    return "\n".join(lines)
