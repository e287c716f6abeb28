"""Customer activations at the ERP's limit on the local stack: the ERP sandbox takes at most N concurrent
requests with a fixed latency; the ERP budget (template parameter ErpConcurrency: the ERP work queue's
MaximumConcurrency and the ERP adapter's reserved concurrency) is N.

    .venv/bin/python -m bench.workflows [--deals 200] [--erp-concurrency 2] [--erp-latency 0.2] [--amendments 3]
                                        [--aws-transport in-process|http]

The vendor sandbox serves in a process of its own (local/sandbox/process.py): the vendors' servers are not the
hub's, and in the stack's process their request handling took ~17 ms of its CPU per activation.

Prints, each with its target:
- the ERP-bound theory (ERP requests per activation x latency / N: the fastest any hub could drain the deals
  through that ERP), the measured drain (first webhook sent -> last execution stopped) and their ratio (<= 1.2x);
- the most ERP requests seen in flight (<= N) and the compensations (0): throttling is retried, never undone;
- the local stack's process CPU time per activation during the drain (the stack's own cost: when it exceeds
  latency / N x ERP requests, the machine, not the ERP, is the bottleneck);
- state transitions per workflow run, and the list-price cost per 1,000 activations (bench/workflow_costs.py:
  prices and their sources) against $0.30.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "hub" / "python", ROOT, ROOT / "tests" / "e2e" / "workflows"):
    sys.path.insert(0, str(path))

from bench import aws_share  # noqa: E402
from bench.workflow_costs import AWS_CALL_SECONDS, Usage, lambda_gb_seconds, report  # noqa: E402

DRAIN_TARGET, COST_TARGET = 1.2, 0.30
COMPENSATIONS = ("CancelSubscriptions", "VoidSalesOrder", "RevertSubscriptionChange", "VoidRenewalOrder")


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def entered(events: list[dict[str, Any]]) -> list[str]:
    """The states entered, in order (a retry does not enter its state again)."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def transitions(events: list[dict[str, Any]]) -> int:
    """State transitions as Standard workflows bill them: every state entered, plus every retry of a Task
    (a Task's attempts are its scheduled Lambda invocations or integrations; the first comes with the entry)."""
    types = Counter(e["type"] for e in events)
    attempts = types["LambdaFunctionScheduled"] + types["TaskScheduled"]
    return len(entered(events)) + max(0, attempts - types["TaskStateEntered"])


def throttled(histories: list[list[dict[str, Any]]]) -> int:
    """Task attempts Lambda refused at a reserved concurrency (what the queued ERP calls no longer meet)."""
    return sum(1 for events in histories for e in events if e["type"] in ("LambdaFunctionFailed", "TaskFailed")
               and "TooManyRequestsException" in str(e))


def finished_runs(stack: Any, machine_id: str, expected: int, timeout: float) -> list[dict[str, Any]]:
    """The state machine's stopped runs as ListExecutions answers them, once `expected` of them stopped.

    The bench watches the runs in the embedded moto's backend: ListExecutions through the API cost the stack's
    process ~10 % of its CPU in the drain (moto serializes every run on each call), and that is the observer's
    cost, not the hub's. The drain ends at the runs' stopDate, so how often the bench looks does not change it."""
    from moto.stepfunctions.responses import get_backend

    from local.template import ACCOUNT_ID, REGION

    machine = stack.physical(machine_id)

    def finished() -> list[dict[str, Any]]:
        runs = get_backend(ACCOUNT_ID, REGION).describe_state_machine(machine).executions
        return [{"executionArn": r.execution_arn, "status": r.status, "stopDate": _utc(r.stop_date)}
                for r in list(runs) if r.status != "RUNNING" and r.stop_date is not None]

    def done() -> list[dict[str, Any]] | None:
        runs = finished()
        return runs if len(runs) >= expected else None

    try:
        return stack.wait_until(done, timeout=timeout, interval=1.0)
    except TimeoutError:  # the figures of what finished, and how many did not (e.g. waiting for ERP recovery)
        runs = finished()
        print(f"TIMEOUT: {expected - len(runs)} of {expected} runs still running after {timeout:.0f} s")
        return runs


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # moto's utcnow() is naive UTC


def usage_counters(stack: Any) -> dict[str, Any]:
    """What the functions did so far: invocations, handler CPU and wall time per memory size, SQS messages
    delivered to them, the AWS calls their code made."""
    from local import aws_calls

    functions = list(stack.functions.by_id.values())
    cpu, wall = Counter[int](), Counter[int]()
    for fn in functions:
        cpu[fn.spec.memory] += fn.cpu_seconds
        wall[fn.spec.memory] += fn.busy_seconds
    return {"requests": sum(f.invocations for f in functions), "cpu": cpu, "wall": wall,
            "sqs": sum(f.sqs_messages for f in functions), "calls": aws_calls.counts()}


def queued_sends(histories: list[list[dict[str, Any]]]) -> int:
    """SQS SendMessage requests the state machines made themselves: one per attempt of a queued ERP call."""
    return sum(1 for events in histories for e in events if e["type"] == "TaskScheduled"
               and e["taskScheduledEventDetails"].get("resourceType") == "sqs")


def priced_usage(stack: Any, result: dict[str, Any], runs: int, transitions: int, erp_wait: float,
                 sends: int = 0) -> Usage:
    """The drain's usage for the cost model: waits are the ERP's latency and AWS calls (bench/workflow_costs);
    `sends`: the state machines' own SQS requests (the functions' calls are recorded by local/aws_calls)."""
    usage, memory = result["usage"], {f.spec.logical_id: f.spec.memory for f in stack.functions.by_id.values()}
    waits = Counter[int]({memory["ErpAdapterFunction"]: erp_wait})
    calls = Counter[tuple[str, str]]({("sqs", "SendMessage"): sends})
    for (function, service, operation), n in usage["calls"].items():
        waits[memory.get(function, 128)] += n * AWS_CALL_SECONDS
        calls[(service, operation)] += n
    return Usage(runs=runs, transitions=transitions, lambda_requests=usage["requests"],
                 lambda_gb_seconds=lambda_gb_seconds(usage["cpu"], waits),
                 lambda_wall_gb_seconds=sum(s * mb / 1024 for mb, s in usage["wall"].items()),
                 aws_calls=calls, sqs_deliveries=usage["sqs"], api_requests=runs)


def erp_occupancy(sandbox: Any, started: float, vendor: str = "netsuite") -> str:
    """How busy the ERP was during the drain (the sandbox's gate keeps the time-weighted count of requests in
    flight): where the drain loses time to the theory, the ERP is idle: before its first request (the pipeline
    filling), after its last, or in between (the hub slow)."""
    busy = sandbox.occupancy(vendor)
    if not busy:
        return "ERP occupancy: no request seen"
    return (f"ERP occupancy: first request at {busy['first'] - started:.1f} s, last at {busy['last'] - started:.1f} s; "
            f"in between {busy['mean_in_flight']:.2f} requests in flight on average")


def activate(stack: Any, deals: list[Any], timeout: float, share: aws_share.AwsShare) -> dict[str, Any]:
    """Send every deal's webhook at once, wait until every activation stopped; figures of the drain."""
    from deals import post

    before, cpu, started, in_moto = usage_counters(stack), time.process_time(), time.time(), share.seconds
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda d: post(stack.endpoints["gateway"], "salesforce", d.outbound_message())[0],
                                 deals))
    assert all(s == 200 for s in statuses), Counter(statuses)
    runs = finished_runs(stack, "CustomerActivationStateMachine", len(deals), timeout)
    cpu, in_moto = time.process_time() - cpu, share.seconds - in_moto
    drain = max((r["stopDate"].timestamp() for r in runs), default=time.time()) - started
    after = usage_counters(stack)
    print(erp_occupancy(stack.sandbox, started))
    return {"runs": runs, "drain": drain, "cpu": cpu, "in_moto": in_moto,
            "usage": {k: after[k] - before[k] for k in ("requests", "cpu", "wall", "sqs", "calls")}}


def amend(stack: Any, deals: list[Any]) -> list[int]:
    """Amend a few of the activated contracts (+10 seats, quarterly): each successful run's transitions."""
    from deals import post

    sfn = stack.client("stepfunctions")
    change = [{"sku": "PLATFORM-ENT", "quantity": 10, "unit_price": "1200.00", "legal_entity_id": "LE-US"}]
    for deal in deals:
        post(stack.endpoints["gateway"], "salesforce", deal.outbound_message(
            Id=f"{deal.opportunity_id}A", Contract_Key__c=deal.opportunity_id, Contract_Version__c="2.0",
            Type="Amendment", Line_Items__c=change, Billing_Frequency__c="Quarterly",
            LastModifiedDate="2024-09-02T10:00:00.000Z"))
    runs = finished_runs(stack, "SubscriptionAmendmentStateMachine", len(deals), timeout=120)
    return [transitions(history(sfn, r["executionArn"])) for r in runs if r["status"] == "SUCCEEDED"]


def print_drain(args: argparse.Namespace, result: dict[str, Any], erp_requests: int, peak: int,
                refused: int) -> float:
    n, runs, deals = args.erp_concurrency, result["runs"], len(result["runs"]) or 1
    succeeded = sum(1 for r in runs if r["status"] == "SUCCEEDED")
    per_activation = erp_requests / deals
    theory = deals * per_activation * args.erp_latency / n
    ratio = result["drain"] / theory if theory else float("inf")
    print(f"activations: {succeeded}/{args.deals} succeeded ({deals} finished); drain {result['drain']:.1f} s "
          f"= {succeeded / result['drain'] * 60:.0f} activations/minute")
    print(f"ERP-bound theory: {per_activation:.2f} ERP requests/activation x {args.erp_latency} s / {n} concurrent "
          f"x {deals} = {theory:.1f} s (the ERP's limit: {60 * n / (per_activation * args.erp_latency):.0f}/minute)")
    print(f"drain / theory: {ratio:.2f}x (target <= {DRAIN_TARGET}x) {'OK' if ratio <= DRAIN_TARGET else 'MISSED'}")
    print(f"ERP sandbox: most in flight {peak} (limit {n}) {'OK' if peak <= n else 'MISSED'}, "
          f"refused at its door {refused}")
    cpu = result["cpu"] / deals
    print(f"local stack CPU: {result['cpu']:.1f} s process time in the drain = {cpu:.3f} s/activation "
          f"(the ERP allows {per_activation * args.erp_latency / n:.3f} s of wall time per activation)")
    in_moto = result["in_moto"] / deals
    print(f"  of which inside moto (answering the stack's AWS calls, interpreting the executions; bench/aws_share.py): "
          f"{in_moto:.3f} s/activation = {100 * in_moto / max(cpu, 1e-9):.0f}%: one interpreter with moto as it is, "
          f"making the same calls, drains at most {60 / max(in_moto, 1e-9):.0f} activations/minute if all else cost "
          f"nothing")
    return ratio


def print_transitions_and_cost(stack: Any, result: dict[str, Any], amended: list[int], erp_wait: float) -> float:
    sfn = stack.client("stepfunctions")
    histories = [history(sfn, r["executionArn"]) for r in result["runs"]]
    counts, states = [transitions(h) for h in histories], [len(entered(h)) for h in histories]
    compensated = sum(1 for h in histories if any(state in COMPENSATIONS for state in entered(h)))
    print(f"compensations: {compensated} (target 0) {'OK' if compensated == 0 else 'MISSED'}")
    print(f"states entered per activation: median {statistics.median(states)}, max {max(states)} (target <= 9 on "
          f"the happy path); billed transitions with the throttled retries: median {statistics.median(counts)}, "
          f"mean {statistics.mean(counts):.1f}, max {max(counts)}")
    if amended:
        print(f"state transitions per amendment: median {statistics.median(amended)}")
    calls = result["usage"]["calls"]
    top = ", ".join(f"{fn} {op} {n / len(counts):.1f}" for (fn, _, op), n in calls.most_common(8))
    print(f"AWS calls per activation: {sum(calls.values()) / len(counts):.1f}; most: {top}")
    reads = {key: n for key, n in calls.items() if key[2] in ("GetParameter", "GetParameters", "GetSecretValue")}
    print(f"configuration reads: {sum(reads.values())} ({sum(reads.values()) / len(counts):.2f}/activation; a warm "
          f"function keeps them for their max age): " + (", ".join(f"{fn} {op} {n}" for (fn, _, op), n in
                                                              sorted(reads.items())) or "none"))
    sends = queued_sends(histories)
    print(f"ERP steps queued: {sends / len(counts):.2f} SendMessage per activation (each answered by SendTaskSuccess/"
          f"Failure, which Step Functions does not bill); throttled Task attempts: {throttled(histories)}")
    cost, lines = report(priced_usage(stack, result, len(counts), sum(counts), erp_wait, sends), COST_TARGET)
    print("list-price cost per 1,000 activations (us-east-1, on demand; prices: bench/workflow_costs.py):")
    print("\n".join(lines))
    unthrottled, _ = report(priced_usage(stack, result, len(counts), sum(states), erp_wait, sends), COST_TARGET)
    print(f"  without the throttled retries (the ERP budget never full): ${unthrottled:.4f} per 1,000")
    return cost


def main(argv: list[str] | None = None) -> int:
    from deals import Deal

    from local.stack import HubStack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=200)
    parser.add_argument("--erp-concurrency", type=int, default=2)
    parser.add_argument("--erp-latency", type=float, default=0.2, help="seconds the ERP sandbox adds per request")
    parser.add_argument("--amendments", type=int, default=3)
    parser.add_argument("--aws-transport", choices=["in-process", "http"], default="in-process",
                        help="how the stack's own AWS calls reach moto (http: as before local/inprocess_aws.py)")
    args = parser.parse_args(argv)
    n = args.erp_concurrency
    share = aws_share.install()
    with HubStack(ROOT / "template.yaml", parameter_overrides={"ErpConcurrency": str(n)},
                  aws_in_process=args.aws_transport == "in-process", sandbox_process=True) as stack:
        sandbox = stack.sandbox
        sandbox.limit_concurrency("netsuite", n)
        sandbox.faults.inject("netsuite", None, kind="latency", times=10**9, seconds=args.erp_latency)
        deals = [Deal(f"Bench{i}") for i in range(args.deals)]
        for deal in deals:
            sandbox.seed("salesforce", "Account", {"Id": deal.account_id, "Name": deal.name, "OwnerId": "005B"})
        result = activate(stack, deals, timeout=max(600.0, args.deals * 3.0), share=share)
        erp_requests = sandbox.admitted("netsuite")  # none before the drain: only Salesforce was seeded
        ratio = print_drain(args, result, erp_requests, sandbox.max_in_flight("netsuite"),
                            sandbox.refused("netsuite"))
        amended = amend(stack, deals[:args.amendments]) if args.amendments else []
        cost = print_transitions_and_cost(stack, result, amended, erp_requests * args.erp_latency)
        assert sandbox.max_in_flight("netsuite") <= n, "the ERP saw more requests in flight than its limit"
    return 0 if ratio <= DRAIN_TARGET and cost <= COST_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
