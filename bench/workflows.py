"""Customer activations per minute on the local stack, with the ERP sandbox limited to N concurrent requests,
and the Step Functions state transitions each workflow run costs.

    .venv/bin/python -m bench.workflows [--deals 20] [--erp-concurrency 2] [--erp-latency 0.2]

The ERP adapter's reserved concurrency (template parameter ErpConcurrency) is set to N: an ERP call over that
budget is throttled (Lambda.TooManyRequestsException) and its Task backs off and retries, so the ERP never sees
more than N in flight and no activation is compensated for it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "hub" / "python", ROOT, ROOT / "tests" / "e2e" / "workflows"):
    sys.path.insert(0, str(path))


def transitions(sfn, execution_arn: str) -> int:
    """State transitions as Standard workflows bill them: every state entered (retries re-enter Tasks)."""
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def amend_some(stack, deals) -> list[int]:
    """Amend a few of the activated contracts (+10 seats, quarterly) and count each run's transitions."""
    from deals import post

    sfn, machine = stack.client("stepfunctions"), stack.physical("SubscriptionAmendmentStateMachine")
    change = [{"sku": "PLATFORM-ENT", "quantity": 10, "unit_price": "1200.00", "legal_entity_id": "LE-US"}]
    for deal in deals:
        post(stack.endpoints["gateway"], "salesforce", deal.outbound_message(
            Id=f"{deal.opportunity_id}A", Contract_Key__c=deal.opportunity_id, Contract_Version__c="2.0",
            Type="Amendment", Line_Items__c=change, Billing_Frequency__c="Quarterly",
            LastModifiedDate="2024-09-02T10:00:00.000Z"))

    def done() -> list[dict] | None:
        runs = [r for r in sfn.list_executions(stateMachineArn=machine)["executions"] if r["status"] != "RUNNING"]
        return runs if len(runs) >= len(deals) else None

    runs = stack.wait_until(done, timeout=120, interval=0.25)
    return [transitions(sfn, r["executionArn"]) for r in runs if r["status"] == "SUCCEEDED"]


def main(argv: list[str] | None = None) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from deals import Deal, post

    from local.stack import HubStack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=20)
    parser.add_argument("--erp-concurrency", type=int, default=2)
    parser.add_argument("--erp-latency", type=float, default=0.2, help="seconds the ERP sandbox adds per request")
    args = parser.parse_args(argv)
    n = args.erp_concurrency
    with HubStack(ROOT / "template.yaml", parameter_overrides={"ErpConcurrency": str(n)}) as stack:
        sandbox, sfn = stack.sandbox, stack.client("stepfunctions")
        sandbox.limit_concurrency("netsuite", n)
        if args.erp_latency:
            sandbox.faults.inject("netsuite", None, kind="latency", times=10**6, seconds=args.erp_latency)
        machine = stack.physical("CustomerActivationStateMachine")
        deals = [Deal(f"Bench{i}") for i in range(args.deals)]
        for deal in deals:
            sandbox.seed("salesforce", "Account", {"Id": deal.account_id, "Name": deal.name, "OwnerId": "005B"})
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda d: post(stack.endpoints["gateway"], "salesforce", d.outbound_message())[0],
                                     deals))
        assert all(s == 200 for s in statuses), statuses

        def done() -> list[dict] | None:
            runs = sfn.list_executions(stateMachineArn=machine)["executions"]
            finished = [r for r in runs if r["status"] != "RUNNING"]
            return finished if len(finished) >= len(deals) else None

        finished = stack.wait_until(done, timeout=600, interval=0.25)
        elapsed = time.monotonic() - started
        succeeded = [r for r in finished if r["status"] == "SUCCEEDED"]
        counts = [transitions(sfn, r["executionArn"]) for r in succeeded]
        peak, refused = sandbox.max_in_flight("netsuite"), sandbox.refused("netsuite")
        print(f"activations: {len(succeeded)}/{len(deals)} succeeded in {elapsed:.1f} s "
              f"= {len(succeeded) / elapsed * 60:.1f} activations/minute")
        print(f"ERP sandbox: limit {n} concurrent, max in flight {peak}, refused {refused}, "
              f"latency {args.erp_latency} s/request")
        if counts:
            print(f"state transitions per activation: median {statistics.median(counts)}, min {min(counts)}, "
                  f"max {max(counts)}")
        assert peak <= n, f"the ERP saw {peak} requests in flight, more than its limit {n}"
        amended = amend_some(stack, deals[:3])
        if amended:
            print(f"state transitions per amendment: median {statistics.median(amended)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
