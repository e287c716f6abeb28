"""Local stack figures: time to ready (fresh interpreter, process start -> ready), end-to-end latency from
an HTTP POST to the gateway of the TEST template to the message arriving on a queue (median, p99), and the
throughput of template.yaml's webhook -> inbox -> queue path with its targets (bench/local_stack_throughput.py).

    .venv/bin/python bench/local_stack.py [--runs 3] [--requests 200] [--webhooks 10000] [--senders 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "tests" / "integration" / "runtime" / "app" / "template.yaml"
REAL_TEMPLATE = ROOT / "template.yaml"
_CHILD = """
import sys, time
sys.path[:0] = [{layer!r}, {root!r}]
from local.stack import HubStack
stack = HubStack({template!r}, sandbox={sandbox})
stack.start()
print(time.monotonic() - {started}, flush=True)
stack.stop()
"""


def time_to_ready(template: Path, runs: int, sandbox: bool) -> list[float]:
    figures = []
    for _ in range(runs):
        started = time.monotonic()  # CLOCK_MONOTONIC is shared across processes on Linux
        code = _CHILD.format(layer=str(ROOT / "layers" / "hub" / "python"), root=str(ROOT), template=str(template),
                             sandbox=sandbox, started=started)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        if output.returncode != 0:  # say why: the child's own last words
            raise RuntimeError(f"the stack's start and stop exited {output.returncode}:\n{output.stderr[-3000:]}")
        figures.append(float(output.stdout.strip().splitlines()[-1]))
    return figures


def latency(requests: int, budget_seconds: float) -> list[float]:
    """POST /enqueue (handler sends to a queue) -> SQS source -> consumer handler -> output queue, in ms."""
    sys.path[:0] = [str(ROOT / "layers" / "hub" / "python"), str(ROOT)]
    from local.stack import HubStack

    figures: list[float] = []
    with HubStack(TEMPLATE, sandbox=False) as stack:
        sqs, output = stack.client("sqs"), stack.physical("OutputQueue")
        url = stack.endpoints["gateway"] + "/enqueue"
        deadline = time.monotonic() + budget_seconds
        for _ in range(requests):
            if time.monotonic() > deadline:
                break
            marker = uuid.uuid4().hex
            started = time.perf_counter()
            request = urllib.request.Request(url, data=json.dumps({"id": marker}).encode(), method="POST")  # noqa: S310
            urllib.request.urlopen(request, timeout=10).read()  # noqa: S310 - loopback
            arrived = False
            while not arrived:
                messages = sqs.receive_message(QueueUrl=output, MaxNumberOfMessages=10).get("Messages", [])
                for message in messages:
                    sqs.delete_message(QueueUrl=output, ReceiptHandle=message["ReceiptHandle"])
                    arrived = arrived or json.loads(message["Body"]).get("processed") == marker
                if not arrived:
                    time.sleep(0.002)
            figures.append((time.perf_counter() - started) * 1000)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds at most for the latency loop")
    parser.add_argument("--webhooks", type=int, default=10_000, help="per throughput run (0: skip throughput)")
    parser.add_argument("--senders", type=int, default=16)
    args = parser.parse_args()
    for label, template, sandbox in (("test template", TEMPLATE, False), ("template.yaml + sandbox", REAL_TEMPLATE,
                                                                          True)):
        if template.exists():
            ready = time_to_ready(template, args.runs, sandbox)
            print(f"ready ({label}, fresh interpreter): median {statistics.median(ready):.2f} s "
                  f"over {len(ready)} runs (min {min(ready):.2f}, max {max(ready):.2f})")
    figures = sorted(latency(args.requests, args.budget))
    p99 = figures[min(len(figures) - 1, int(len(figures) * 0.99))]
    print("POST /enqueue -> queue -> SQS source -> handler -> output queue: "
          f"median {statistics.median(figures):.1f} ms, "
          f"p99 {p99:.1f} ms over {len(figures)} requests")
    if args.webhooks:
        from bench import local_stack_throughput

        runs = [local_stack_throughput.run_once(REAL_TEMPLATE, args.webhooks, args.senders) for _ in range(args.runs)]
        print("\n".join(local_stack_throughput.report(runs)))


if __name__ == "__main__":
    main()
