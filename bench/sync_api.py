"""/api/v1 latency on the local stack (real template.yaml, vendor sandbox): p50/p95 of status lookups and account
validation served from the hub's records, over HTTP with an API key, against the budget (p95 <= 300 ms).

    .venv/bin/python bench/sync_api.py [--customers 100] [--requests 100]

The hub's tables are seeded with --customers activated customers (ids in three systems, a contract with a
subscription and a sales order per entity, a completed run, one open exception in ten) so lookups read a table
of realistic size; the usage plan's rate is raised for the bench (throttling is not what is measured).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "local-dev-api-key-tests-00000000000003"  # local/dev-api-keys.json: LOCAL ONLY
BUDGET_MS = 300.0


def seed(stack: Any, customers: int) -> list[dict[str, str]]:
    from erphub.store.identity_table import IdentityStore
    from erphub.store.workflow_state import COMPLETED, WorkflowStore

    identity = IdentityStore(stack.physical("IdentityTable"), stack.client("dynamodb"))
    runs = WorkflowStore(stack.physical("WorkflowTable"), stack.client("dynamodb"))
    seeded = []
    for n in range(customers):
        customer, account, contract = f"cust-bench-{n:05d}", f"001BENCH{n:06d}", f"006BENCH{n:06d}"
        correlation = f"contract:salesforce:{contract}"
        identity.link(customer, "salesforce", account)
        identity.link(customer, "stripe", f"cus_bench{n}", entity="LE-US")
        identity.link(customer, "netsuite", f"{9000 + n}", entity="LE-US")
        identity.add_key(customer, "tax_id", f"US{n:09d}")
        identity.link_contract(contract, "stripe", "subscription", "LE-US", f"sub_bench{n}")
        identity.link_contract(contract, "netsuite", "sales_order", "LE-US", f"SO{n}")
        identity.put_terms(contract, customer, {"items": []})
        runs.record_status(correlation, "activation", COMPLETED, step="outcome.completed")
        if n % 10 == 0:
            runs.open_exception(correlation, "activation", "reconciliation", "billing and ERP differ")
        seeded.append({"customer": customer, "account": account, "contract": contract, "order": f"SO{n}",
                       "correlation": correlation, "tax_id": f"US{n:09d}"})
    return seeded


def request(gateway: str, method: str, path: str, body: Any = None) -> tuple[int, float]:
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(gateway + path, data=data, method=method,  # noqa: S310 - loopback gateway
                                  headers={"Content-Type": "application/json", "x-api-key": KEY})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(call, timeout=10) as response:  # noqa: S310 - loopback gateway
            response.read()
            status = response.status
    except urllib.error.HTTPError as refused:
        status = refused.code
    return status, (time.perf_counter() - started) * 1000


def measure(gateway: str, name: str, calls: list[tuple[str, str, Any]]) -> dict[str, Any]:
    figures, statuses = [], set()
    for method, path, body in calls:
        status, ms = request(gateway, method, path, body)
        figures.append(ms)
        statuses.add(status)
    figures.sort()
    p95 = figures[max(0, int(len(figures) * 0.95) - 1)]
    return {"name": name, "n": len(figures), "p50": statistics.median(figures), "p95": p95, "statuses": statuses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "hub" / "python"), str(ROOT)]
    from local.stack import HubStack

    overrides = {"SyncApiRateLimit": "10000", "SyncApiBurstLimit": "10000"}
    with HubStack(ROOT / "template.yaml", parameter_overrides=overrides) as stack:
        gateway = stack.endpoints["gateway"]
        seeded = seed(stack, args.customers)
        picks = [seeded[i % len(seeded)] for i in range(args.requests)]
        request(gateway, "GET", f"/api/v1/workflows/{seeded[0]['correlation']}")  # cold start, not measured
        results = [
            measure(gateway, "GET /api/v1/contracts/{id}", [("GET", f"/api/v1/contracts/{p['contract']}", None)
                                                            for p in picks]),
            measure(gateway, "GET /api/v1/customers/{id}", [("GET", f"/api/v1/customers/{p['customer']}", None)
                                                            for p in picks]),
            measure(gateway, "GET /api/v1/orders/{id}", [("GET", f"/api/v1/orders/{p['order']}", None) for p in picks]),
            measure(gateway, "GET /api/v1/workflows/{id}", [("GET", f"/api/v1/workflows/{p['correlation']}", None)
                                                            for p in picks]),
            measure(gateway, "POST /api/v1/accounts/validate", [("POST", "/api/v1/accounts/validate", {
                "account_id": p["account"], "name": "Bench", "currency": "USD", "tax_id": p["tax_id"],
                "legal_entities": [{"entity_id": "LE-US", "name": "Bench Inc.", "tax_id": p["tax_id"],
                                    "currency": "USD", "subsidiary": "US01"}]}) for p in picks]),
        ]
    print(f"/api/v1 on the local stack, {args.customers} customers seeded, {args.requests} sequential requests each")
    print(f"{'route':36} {'p50 ms':>8} {'p95 ms':>8}  statuses   target p95 <= {BUDGET_MS:.0f} ms")
    worst = 0.0
    for r in results:
        worst = max(worst, r["p95"])
        verdict = "ok" if r["p95"] <= BUDGET_MS else "OVER"
        print(f"{r['name']:36} {r['p50']:8.1f} {r['p95']:8.1f}  {sorted(r['statuses'])!s:10} {verdict}")
    print(f"worst p95 {worst:.1f} ms: {'within' if worst <= BUDGET_MS else 'OVER'} the {BUDGET_MS:.0f} ms budget")
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
