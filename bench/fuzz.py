"""Fuzz campaign against the local stack over HTTP: prints counts, asserts nothing.

    .venv/bin/python -m bench.fuzz [--requests 10000] [--seed 0] [--workers 8]

Sends malformed, unsigned, wrongly signed and validly-signed-but-bizarre webhooks for all six sources (see
bench/fuzz_cases.py) through the local API gateway and prints:
- total and count by status (and by kind of request);
- 5xx answers;
- contract violations: a 4xx from the function that is not JSON with "error" and "message" (API Gateway's
  own refusals, marked by x-amzn-ErrorType, carry {"message"} as on AWS), a 2xx that is not a receipt
  (202 JSON event_id/status/correlation_id) or, for Salesforce, the SOAP Ack;
- writes for refused requests: inbox items that appeared during the campaign and that no 2xx answer
  accounts for (the inbox is scanned before and after); and the reverse, events answered 2xx that are
  not in the inbox afterwards.
Target: 0 / 0 / 0 (and 0 missing). tests/e2e/test_fuzz_campaign.py runs a small campaign with the same code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "hub" / "python"), str(ROOT)]

from bench.fuzz_cases import Case, Generator  # noqa: E402 - after the path set-up, like Lambda's /opt/python

RECEIPT_STATUSES = {"accepted", "duplicate"}  # the mapping (quarantined, ignored) comes after the answer
_ROUND = 100


@dataclass
class Report:
    total: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    gateway_responses: int = 0
    accepted_events: set[str] = field(default_factory=set)
    new_items: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def refused_writes(self) -> set[str]:
        return self.new_items - self.accepted_events

    @property
    def lost_events(self) -> set[str]:
        """Answered 2xx but not in the inbox afterwards (what moto's unlocked transaction rollback did)."""
        return self.accepted_events - self.new_items

    def lines(self) -> list[str]:
        rate = self.total / self.seconds if self.seconds else 0.0
        out = [f"requests: {self.total} in {self.seconds:.1f} s ({rate:.0f}/s)",
               "by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.by_status.items())),
               "by kind: " + ", ".join(f"{k}/{s}: {n}" for (k, s), n in sorted(self.by_kind.items())),
               f"API Gateway's own refusals (x-amzn-ErrorType, {{message}}): {self.gateway_responses}",
               f"5xx: {len(self.server_errors)}", f"contract violations: {len(self.violations)}",
               f"inbox items written: {len(self.new_items)}; events accepted (2xx): {len(self.accepted_events)}",
               f"writes for refused requests: {len(self.refused_writes)}",
               f"accepted events missing from the inbox: {len(self.lost_events)}"]
        by_source = Counter(e.split(" ", 2)[0] + " " + e.split(" ", 2)[1] for e in self.server_errors)
        out += [f"  5xx by source and kind: {dict(by_source)}"] if by_source else []
        out += [f"  5xx: {e}" for e in self.server_errors[:10]]
        out += [f"  violation: {v}" for v in self.violations[:10]]
        return out


def campaign(gateway: str, inbox_event_ids: Any, count: int, seed: int = 0, workers: int = 8) -> Report:
    """Send count generated requests with `workers` threads; inbox_event_ids() reads the inbox's event ids."""
    generator, lock, report = Generator(gateway, seed), threading.Lock(), Report()
    before = inbox_event_ids()
    local = threading.local()
    started = time.monotonic()

    def send(case: Case) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        headers = {k: v.encode("utf-8").decode("latin-1") for k, v in case.headers.items()}  # raw UTF-8 bytes
        try:
            response = session.post(case.url, data=case.body, headers=headers, timeout=60)
        except requests.RequestException as exc:
            with lock:
                report.total += 1
                report.violations.append(f"{case.source} {case.kind} {case.label}: no answer ({exc})")
            return
        with lock:
            _record(report, case, response)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # signed in rounds, just before sending: a signature made minutes earlier is (rightly) expired
        for start in range(0, count, _ROUND):
            list(pool.map(send, [generator.case() for _ in range(min(_ROUND, count - start))]))
    report.seconds = time.monotonic() - started
    report.new_items = inbox_event_ids() - before
    return report


def _record(report: Report, case: Case, response: requests.Response) -> None:
    report.total += 1
    report.by_status[response.status_code] += 1
    report.by_kind[(case.kind, response.status_code)] += 1
    where = f"{case.source} {case.kind} [{case.label[:80]}] -> {response.status_code} {response.text[:160]!r}"
    if response.status_code >= 500:
        report.server_errors.append(where)
        return
    problem = _contract_problem(case, response, report)
    if problem:
        report.violations.append(f"{problem}: {where}")


def _contract_problem(case: Case, response: requests.Response, report: Report) -> str:
    status = response.status_code
    try:
        body = response.json() if status != 200 or case.source != "salesforce" else None
    except ValueError:
        return "not JSON"
    if 400 <= status < 500:
        if "x-amzn-ErrorType" in response.headers and response.headers.get("x-amzn-ErrorType", "").endswith(
                "Exception") and isinstance(body, dict) and isinstance(body.get("message"), str):
            report.gateway_responses += 1
            return ""
        ok = isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)
        return "" if ok else "4xx without error/message"
    if status == 200 and case.source == "salesforce":
        if "<Ack>true</Ack>" not in response.text:
            return "200 without the SOAP Ack"
        report.accepted_events |= _salesforce_event_ids(case.body)
        return ""
    if status == 202 and isinstance(body, dict):
        receipts = body.get("events") or [body]
        if all(_is_receipt(r) for r in [body, *receipts]):
            report.accepted_events |= {r["event_id"] for r in receipts if r["status"] != "duplicate"}
            return ""
        return "202 body is not a receipt"
    return f"unexpected status {status}"


def _is_receipt(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("event_id"), str)
            and value.get("status") in RECEIPT_STATUSES and isinstance(value.get("correlation_id"), str))


def _salesforce_event_ids(body: bytes) -> set[str]:
    from erphub.canonical import event_id_for
    from erphub.sources.salesforce import soap

    return {event_id_for("salesforce", n.notification_id) for n in soap.parse_message(body).notifications}


def inbox_reader(stack: Any) -> Any:
    """A function returning the event ids of every inbox item (consistent scan)."""
    table, ddb = stack.physical("InboxTable"), stack.client("dynamodb")

    def event_ids() -> set[str]:
        ids: set[str] = set()
        request: dict[str, Any] = {}
        while True:
            page = ddb.scan(TableName=table, ConsistentRead=True, ProjectionExpression="event_id", **request)
            ids |= {item["event_id"]["S"] for item in page["Items"]}
            if "LastEvaluatedKey" not in page:
                return ids
            request = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    return event_ids


def hold_consumers(stack: Any) -> None:
    """Only the ingest path is under test: the queues' consumers (workflows, signals) are held."""
    for logical_id, resource in stack.template.resources.items():
        if resource.get("Type") == "AWS::SQS::Queue":
            stack.pause_consumers(logical_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    from local.stack import HubStack

    # the handlers' log lines and metrics (stdout, as in Lambda) would bury the figures
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), \
            HubStack(ROOT / "template.yaml", sandbox=False) as stack:
        hold_consumers(stack)
        report = campaign(stack.endpoints["gateway"], inbox_reader(stack), args.requests, args.seed, args.workers)
    print("\n".join(report.lines()))
    print(json.dumps({"total": report.total, "5xx": len(report.server_errors),
                      "contract_violations": len(report.violations),
                      "writes_for_refused_requests": len(report.refused_writes),
                      "accepted_events_missing": len(report.lost_events)}))


if __name__ == "__main__":
    main()
