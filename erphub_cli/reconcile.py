"""erphub ops reconcile: start a reconciliation of every active contract now (or show one by --id), wait for its
report and print it: counts, then each mismatch with every system's value and the exception tracking it."""

from __future__ import annotations

import argparse
import time
from typing import Any


def add(commands: Any, client: Any, printer: Any) -> None:
    """Register the verb; client(args) -> OpsClient and printer(args, data, readable) come from ops_cli."""
    reconcile = commands.add_parser("reconcile", help="reconcile billing, ERP and contracts now; print the report")
    reconcile.add_argument("--id", dest="reconciliation_id", help="show this reconciliation instead of starting one")
    reconcile.add_argument("--no-wait", action="store_true", help="return as soon as the run has started")
    reconcile.add_argument("--timeout", type=float, default=600, help="seconds to wait for the report")
    reconcile.set_defaults(run=lambda args: _reconcile(args, client(args), printer))


def _reconcile(args: argparse.Namespace, client: Any, printer: Any) -> int:
    report = (client.get(f"/reconciliations/{args.reconciliation_id}") if args.reconciliation_id
              else client.post("/reconciliations"))
    deadline = time.monotonic() + args.timeout
    while report["status"] != "completed" and not args.no_wait and time.monotonic() < deadline:
        time.sleep(1)
        report = client.get(f"/reconciliations/{report['reconciliation_id']}")
    return printer(args, report, lambda: readable(report))


def readable(report: dict[str, Any]) -> None:
    print(f"{report['reconciliation_id']}: {report['status']} — {report['checked']} contracts checked, "
          f"{report['matched']} matched, {report['mismatched']} mismatched, {report['failed']} unreadable, "
          f"{report['exceptions_opened']} exceptions opened")
    for contract in report.get("contracts") or []:
        if contract["outcome"] == "failed":
            print(f"  {contract['contract_id']}: could not be read: {contract.get('error')}")
        for m in contract.get("mismatches") or []:
            where = " ".join(p for p in (m["entity"], m["sku"]) if p)
            others = (f"CRM {m['crm']}" if m.get("crm") is not None  # contract value vs the CRM's deal
                      else f"billing {m.get('billing') or '-'}, ERP {m.get('erp') or '-'}")
            print(f"  {m['contract_id']} {where} {m['field']}: contract {m.get('contract') or '-'}, {others}"
                  f"  [{m['exception_id']}]")
