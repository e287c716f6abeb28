"""`erphub status`: what happened on a running stack, generically, through its embedded AWS endpoint."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

Client = Callable[[str], Any]


def report(client: Client, out: Callable[[str], None] = print) -> None:
    tables(client, out)
    archives(client, out)
    queues(client, out)
    executions(client, out)


def tables(client: Client, out: Callable[[str], None]) -> None:
    dynamodb = client("dynamodb")
    out("Tables (items by status)")
    for name in dynamodb.list_tables()["TableNames"]:
        counts: Counter[str] = Counter()
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                status = item.get("status", {})
                counts[next(iter(status.values()), "-") if status else "-"] += 1
        detail = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "empty"
        out(f"  {name}: {sum(counts.values())} items ({detail})")


def archives(client: Client, out: Callable[[str], None]) -> None:
    events = client("events")
    out("Event archives (events recorded)")
    for archive in events.list_archives().get("Archives", []):
        out(f"  {archive['ArchiveName']}: {archive.get('EventCount', 0)} events "
            f"from {archive['EventSourceArn'].rsplit('/', 1)[-1]}")


def queues(client: Client, out: Callable[[str], None]) -> None:
    sqs = client("sqs")
    urls = sqs.list_queues().get("QueueUrls", [])
    attributes = {url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] for url in urls}
    by_arn = {a["QueueArn"]: url for url, a in attributes.items()}
    dead_letter = {json.loads(a["RedrivePolicy"])["deadLetterTargetArn"] for a in attributes.values()
                   if "RedrivePolicy" in a}
    out("Queues (waiting / in flight; DLQ depth)")
    for url, attrs in sorted(attributes.items()):
        if attrs["QueueArn"] in dead_letter or url.rsplit("/", 1)[-1].startswith("local-bridge-"):
            continue
        line = f"  {url.rsplit('/', 1)[-1]}: {attrs['ApproximateNumberOfMessages']} / " \
               f"{attrs['ApproximateNumberOfMessagesNotVisible']}"
        if "RedrivePolicy" in attrs:
            dlq_arn = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
            dlq = attributes.get(by_arn.get(dlq_arn, ""), {})
            line += f"; DLQ {dlq_arn.rsplit(':', 1)[-1]}: {dlq.get('ApproximateNumberOfMessages', '?')}"
        out(line)


def executions(client: Client, out: Callable[[str], None]) -> None:
    sfn = client("stepfunctions")
    out("Executions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        runs = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
        counts = Counter(run["status"] for run in runs)
        out(f"  {machine['name']}: " + (", ".join(f"{s}: {n}" for s, n in sorted(counts.items())) or "none"))
        for run in runs:
            if run["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
                step, error = failing_step(sfn, run["executionArn"])
                out(f"    {run['name']}: {run['status']} at {step} ({error})")


def failing_step(sfn: Any, execution_arn: str) -> tuple[str, str]:
    """The last state entered before the failure, and the error it ended with."""
    history = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=False)["events"]
    step, error = "?", "?"
    for event in history:
        if "stateEnteredEventDetails" in event:
            step = event["stateEnteredEventDetails"]["name"]
        for key, details in event.items():
            if key.endswith("FailedEventDetails") and isinstance(details, dict):
                error = details.get("error", error)
    return step, error
