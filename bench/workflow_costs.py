"""List-price cost of workflow runs on AWS, from what a bench run measured on the local stack.

Prices: AWS's public pricing pages, us-east-1, on-demand, no free tier, as read on 2026-12-01:
- Step Functions Standard: $0.025 per 1,000 state transitions (aws.amazon.com/step-functions/pricing)
- Lambda, arm64 (template Globals: Architectures [arm64]): $0.20 per 1M requests, $0.0000133334 per GB-second,
  duration billed per 1 ms (aws.amazon.com/lambda/pricing)
- DynamoDB on-demand (since the November 2024 price cut): $0.625 per 1M write request units, $0.125 per 1M read
  request units (aws.amazon.com/dynamodb/pricing/on-demand)
- SQS: $0.40 per 1M standard requests, $0.50 per 1M FIFO requests, per 64 KB chunk (aws.amazon.com/sqs/pricing)
- EventBridge: $1.00 per 1M custom events put, per 64 KB chunk (aws.amazon.com/eventbridge/pricing)
- API Gateway REST API: $3.50 per 1M requests, first 333M (aws.amazon.com/api-gateway/pricing)

What is measured and what is assumed (printed with the figures):
- transitions: counted in each execution's history (every state entered, retries included), as Standard bills;
- Lambda requests: every invocation of every function during the run;
- Lambda duration, estimated from measurements, because this machine's wall times include waiting for a CPU
  that six processes share: each handler thread's CPU time, stretched to the CPU share Lambda gives at the
  function's memory (one vCPU at 1,769 MB: docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html),
  plus the time the code waits: the ERP sandbox's fixed latency per ERP request and an assumed 10 ms per AWS
  API call; other vendors' latency is not included (the sandbox answers them at once). The local wall time
  (an upper bound here) is printed beside it;
- DynamoDB, SQS, EventBridge: the API calls the functions' code made (local/aws_calls), one request unit per
  call (items under 1 KB written, 4 KB read, strongly consistent reads; a transaction's item counts twice);
- SQS consumed by event source mappings: one receive and one delete per message delivered (no idle polling);
  the workflows' queued ERP calls: one SendMessage per attempt, made by Step Functions itself (counted from the
  executions' histories), the receive and delete by the ERP adapter's event source as above; the consumer's
  SendTaskSuccess/SendTaskFailure answers are Step Functions API calls, which are not billed (only transitions);
- API Gateway: the one webhook request that starts each run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SFN_PER_TRANSITION = 0.025 / 1000
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_PER_GB_SECOND = 0.0000133334
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_PER_READ_UNIT = 0.125 / 1e6
SQS_PER_REQUEST = 0.50 / 1e6  # the FIFO price: the dearer of the two, the workflow queues are FIFO
EVENTBRIDGE_PER_EVENT = 1.00 / 1e6
APIGATEWAY_REST_PER_REQUEST = 3.50 / 1e6
ONE_VCPU_MB = 1769  # Lambda's memory size with the equivalent of one vCPU; CPU share is proportional below it
AWS_CALL_SECONDS = 0.010  # assumed in-region latency of one DynamoDB/SQS/EventBridge call

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem"}
DYNAMODB_TRANSACTIONS = {"TransactWriteItems", "TransactGetItems"}


@dataclass
class Usage:
    """What a number of runs used, summed over the run (divided per run by `per_run`)."""

    runs: int
    transitions: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_seconds: float = 0.0  # the estimate described above
    lambda_wall_gb_seconds: float = 0.0  # local wall time x memory: an upper bound on a shared machine
    aws_calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation) -> calls
    sqs_deliveries: float = 0.0  # messages event source mappings handed to functions
    api_requests: float = 0.0


def line_items(usage: Usage) -> list[tuple[str, float, str]]:
    """(service, $ per run, what it counts) for one run on average."""
    runs = max(usage.runs, 1)
    calls = usage.aws_calls
    writes = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op in DYNAMODB_WRITES)
    reads = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op in DYNAMODB_READS)
    transactions = sum(n for (svc, op), n in calls.items() if svc == "dynamodb" and op in DYNAMODB_TRANSACTIONS)
    sqs = sum(n for (svc, _), n in calls.items() if svc == "sqs") + 2 * usage.sqs_deliveries
    events = calls[("events", "PutEvents")]
    return [
        ("Step Functions", usage.transitions * SFN_PER_TRANSITION / runs,
         f"{usage.transitions / runs:.1f} transitions"),
        ("Lambda requests", usage.lambda_requests * LAMBDA_PER_REQUEST / runs,
         f"{usage.lambda_requests / runs:.1f} invocations"),
        ("Lambda duration", usage.lambda_gb_seconds * LAMBDA_PER_GB_SECOND / runs,
         f"{usage.lambda_gb_seconds / runs:.3f} GB-s; local wall time: {usage.lambda_wall_gb_seconds / runs:.3f}"),
        ("DynamoDB", (writes * DYNAMODB_PER_WRITE_UNIT + reads * DYNAMODB_PER_READ_UNIT
                      + transactions * 2 * DYNAMODB_PER_WRITE_UNIT) / runs,
         f"{writes / runs:.1f} writes, {reads / runs:.1f} reads, {transactions / runs:.1f} transactions"),
        ("SQS", sqs * SQS_PER_REQUEST / runs, f"{sqs / runs:.1f} requests"),
        ("EventBridge", events * EVENTBRIDGE_PER_EVENT / runs, f"{events / runs:.1f} PutEvents"),
        ("API Gateway REST", usage.api_requests * APIGATEWAY_REST_PER_REQUEST / runs,
         f"{usage.api_requests / runs:.1f} requests"),
    ]


def report(usage: Usage, target_per_thousand: float) -> tuple[float, list[str]]:
    """$ per 1,000 runs and the lines that explain it."""
    items = line_items(usage)
    total = sum(cost for _, cost, _ in items) * 1000
    lines = [f"  {name:<17} ${cost * 1000:8.4f} per 1,000  ({what} per run)" for name, cost, what in items]
    share = items[0][1] * 1000 / total if total else 0.0
    lines.append(f"  total             ${total:8.4f} per 1,000 activations (target <= ${target_per_thousand:.2f}); "
                 f"Step Functions {share:.0%} of it")
    return total, lines


def lambda_gb_seconds(cpu_by_memory: dict[int, float], waits_by_memory: dict[int, float]) -> float:
    """GB-s of handler CPU time (at the CPU share of each memory size) plus waiting time, per memory size."""
    cpu = sum(seconds * max(1.0, ONE_VCPU_MB / mb) * mb / 1024 for mb, seconds in cpu_by_memory.items())
    return cpu + sum(seconds * mb / 1024 for mb, seconds in waits_by_memory.items())
