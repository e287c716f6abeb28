"""Local stack throughput (issue 13 item 4): signed Stripe `invoice.paid` webhooks from concurrent senders
through the gateway of template.yaml, ingest, the DynamoDB inbox, its stream, the publisher, EventBridge and
the ERP posting rule to the rule's SQS queue (the ERP posting intake queue).

The stack runs in a process of its own, as `erphub up` does, so the senders' CPU is not counted as the
stack's and its memory is the stack's alone. The routed queue's own consumer is switched off there: the
bench measures inbox -> queue, not the ERP posting behind it, and reads the queue itself. A message's
arrival is its SentTimestamp (moto stamps it when the rule's delivery puts it on the queue, in epoch ms),
so how often the bench reads does not change the figure; latency is that minus the time the sender had the 2xx.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STRIPE_EVENT = ROOT / "events" / "stripe" / "invoice.paid.json"
ROUTED_QUEUE = "ErpPostingIntakeQueue"
TARGET_RATE = 200.0  # events/s, inbox -> queue, sustained
TARGET_P99_MS = 500.0
TARGET_RSS_MB = 1024.0

_CHILD = """
import json, os, sys, time
sys.path[:0] = [{layer!r}, {root!r}]
from bench import aws_share
from local.stack import HubStack
from local.pollers import Pollers, SqsPoller
share = aws_share.install()
stack = HubStack({template!r}, sandbox=False, aws_in_process={in_process!r})
stack.start()
queue = stack.physical({queue!r})
for part in stack._parts:
    for loop in part.loops if isinstance(part, Pollers) else []:
        if isinstance(loop, SqsPoller) and loop.source.queue_url == queue:
            loop.enabled = False  # the bench reads this queue itself
with open({ready!r}, "w") as ready:  # stdout carries the functions' logs
    ready.write(json.dumps({{"gateway": stack.gateway_url, "aws": stack.aws.url, "queue": queue}}))
for line in sys.stdin:  # "share": write moto's CPU so far (bench/aws_share.py); anything else: stop
    if line.strip() != "share":
        break
    with open({share!r} + ".part", "w") as out:
        out.write(repr(share.seconds))
    os.replace({share!r} + ".part", {share!r})
stack.stop()
"""


@dataclass
class Run:
    webhooks: int
    senders: int
    answered: dict[str, float] = field(default_factory=dict)  # event id -> when the sender had the 2xx
    arrived: dict[str, float] = field(default_factory=dict)  # event id -> SentTimestamp on the routed queue
    refused: int = 0
    started: float = 0.0
    rss_mb: float = 0.0
    cpu_seconds: float = 0.0  # the stack process's CPU (user + system) from the first send to the last arrival
    moto_cpu_seconds: float = 0.0  # the part of it inside moto (bench/aws_share.py)
    peak_rss_mb: float = 0.0

    def latencies_ms(self) -> list[float]:
        return sorted((self.arrived[e] - t) * 1000 for e, t in self.answered.items() if e in self.arrived)

    def figures(self) -> dict[str, float]:
        latencies = self.latencies_ms()
        answers, arrivals = sorted(self.answered.values()), sorted(self.arrived.values())
        return {
            "accepted_per_s": len(answers) / (answers[-1] - self.started) if answers else 0.0,
            "delivered_per_s": len(arrivals) / (arrivals[-1] - self.started) if arrivals else 0.0,
            "p50_ms": statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan"),
            "max_backlog": float(_max_backlog(answers, arrivals)),
            "drain_s": (arrivals[-1] - answers[-1]) if arrivals and answers else float("nan"),
            "missing": float(len(set(self.answered) - set(self.arrived))),
            "cpu_ms_per_event": self.cpu_seconds * 1000 / max(1, len(answers)),
            "moto_cpu_ms_per_event": self.moto_cpu_seconds * 1000 / max(1, len(answers)),
            "rss_mb": self.rss_mb, "peak_rss_mb": self.peak_rss_mb,
        }


def _max_backlog(answers: list[float], arrivals: list[float]) -> int:
    """Most events acknowledged (2xx) but not yet on the routed queue at any one moment."""
    backlog, worst, i = 0, 0, 0
    for answered in answers:
        while i < len(arrivals) and arrivals[i] <= answered:
            backlog, i = backlog - 1, i + 1
        backlog += 1
        worst = max(worst, backlog)
    return worst


def run_once(template: Path, webhooks: int, senders: int, settle_seconds: float = 30.0,
             on_started: Any = None, in_process: bool = True) -> Run:
    """One stack, `webhooks` webhooks; on_started(pid) runs once the stack is up (e.g. to attach a profiler).

    in_process=False: the stack's own AWS calls go over HTTP to moto, as before local/inprocess_aws.py."""
    workdir = Path(tempfile.mkdtemp(prefix="erphub-bench-"))
    ready = workdir / "endpoints.json"
    share = workdir / "moto-cpu"
    code = _CHILD.format(layer=str(ROOT / "layers" / "hub" / "python"), root=str(ROOT), template=str(template),
                         queue=ROUTED_QUEUE, ready=str(ready), in_process=in_process, share=str(share))
    with (workdir / "stack.log").open("w") as log:
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=log,
                                 stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    assert child.stdin is not None
    try:
        endpoints = _wait_for_endpoints(child, ready)
        if on_started is not None:
            on_started(child.pid)
        run = Run(webhooks, senders)
        reader = _Reader(endpoints["aws"], endpoints["queue"], run)
        reader.start()
        cpu_before, moto_before = _cpu_seconds(child.pid), _moto_cpu_seconds(child, share)
        _send_all(endpoints["gateway"], run)
        reader.wait_for(set(run.answered), settle_seconds)
        run.cpu_seconds = _cpu_seconds(child.pid) - cpu_before
        run.moto_cpu_seconds = _moto_cpu_seconds(child, share) - moto_before
        run.rss_mb, run.peak_rss_mb = _rss_mb(child.pid)
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(timeout=30)
    shutil.rmtree(workdir)  # kept when the run failed: its stack.log says why
    return run


def _wait_for_endpoints(child: subprocess.Popen[str], ready: Path, seconds: float = 120.0) -> dict[str, str]:
    endpoints: dict[str, str] = json.loads(_written(child, ready, seconds, "the local stack did not start"))
    return endpoints


def _written(child: subprocess.Popen[str], path: Path, seconds: float, failure: str) -> str:
    """What the stack process wrote to `path`, once it is there; `failure` if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while not path.exists() or not (text := path.read_text()):
        if child.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{failure}; see {path.parent / 'stack.log'}")
        time.sleep(0.01)
    return text


def _send_all(gateway: str, run: Run) -> None:
    sys.path[:0] = [str(ROOT / "layers" / "hub" / "python"), str(ROOT)]
    from local.sandbox import signing
    from local.webhooks import credentials_for

    credentials, template = credentials_for("stripe"), json.loads(STRIPE_EVENT.read_bytes())
    host = gateway.split("://", 1)[1]
    left = iter(range(run.webhooks))
    lock = threading.Lock()

    def sender() -> None:
        connection = http.client.HTTPConnection(host, timeout=30)
        while True:
            with lock:
                if next(left, None) is None:
                    return
            body = json.dumps({**template, "id": f"evt_{uuid.uuid4().hex[:24]}"}).encode()
            headers, body = signing.sign("stripe", body, credentials, gateway + "/webhooks/stripe")
            connection.request("POST", "/webhooks/stripe", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            now = time.time()
            if response.status // 100 != 2:
                run.refused += 1
                continue
            run.answered[json.loads(answer)["event_id"]] = now

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(run.senders)]
    run.started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class _Reader(threading.Thread):
    """Drains the routed queue, noting each event's SentTimestamp."""

    def __init__(self, aws_url: str, queue_url: str, run: Run) -> None:
        super().__init__(daemon=True)
        import boto3

        self.sqs = boto3.client("sqs", endpoint_url=aws_url, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
        self.queue_url, self.run_ = queue_url, run
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                                VisibilityTimeout=600, AttributeNames=["SentTimestamp"]
                                                ).get("Messages", [])
            for message in messages:
                event_id = json.loads(message["Body"])["detail"]["event_id"]
                self.run_.arrived.setdefault(event_id, int(message["Attributes"]["SentTimestamp"]) / 1000)
            if messages:
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])

    def wait_for(self, event_ids: set[str], stall_seconds: float) -> None:
        """Until every event arrived, or none arrived for stall_seconds."""
        seen, deadline = len(self.run_.arrived), time.monotonic() + stall_seconds
        while time.monotonic() < deadline and not event_ids <= set(self.run_.arrived):
            time.sleep(0.2)
            if len(self.run_.arrived) > seen:
                seen, deadline = len(self.run_.arrived), time.monotonic() + stall_seconds
        self.stopping.set()
        self.join(timeout=5)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _moto_cpu_seconds(child: subprocess.Popen[str], path: Path) -> float:
    """The stack's CPU inside moto so far, as the stack process writes it when asked."""
    assert child.stdin is not None
    path.unlink(missing_ok=True)
    child.stdin.write("share\n")
    child.stdin.flush()
    return float(_written(child, path, 30.0, "the stack did not report its CPU inside moto"))


def _rss_mb(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM (peak) of the stack's process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def report(runs: list[Run]) -> list[str]:
    """One line per figure: min / median / max over the runs, beside its target."""
    figures = [r.figures() for r in runs]

    def spread(name: str, fmt: str = "{:.1f}") -> str:
        values = [f[name] for f in figures]
        return (f"{fmt.format(statistics.median(values))} (min {fmt.format(min(values))}, "
                f"max {fmt.format(max(values))})")

    head = f"{runs[0].webhooks} webhooks, {runs[0].senders} senders, {len(runs)} runs; median (min, max)"
    worst_p99 = max(f["p99_ms"] for f in figures)
    slowest = min(f["delivered_per_s"] for f in figures)
    worst_rss = max(f["rss_mb"] for f in figures)
    in_moto = statistics.median(f["moto_cpu_ms_per_event"] for f in figures)
    return [
        f"local stack throughput: {head}",
        f"  webhooks accepted (2xx): {spread('accepted_per_s')} /s; refused: {sum(r.refused for r in runs)}",
        f"  inbox -> queue sustained: {spread('delivered_per_s')} events/s   target >= {TARGET_RATE:.0f} "
        f"({'met' if slowest >= TARGET_RATE else 'NOT met'})",
        f"  webhook 2xx -> on the routed queue p50: {spread('p50_ms')} ms",
        f"  webhook 2xx -> on the routed queue p99: {spread('p99_ms')} ms   target <= {TARGET_P99_MS:.0f} "
        f"({'met' if worst_p99 <= TARGET_P99_MS else 'NOT met'})",
        f"  backlog (acknowledged, not yet on the queue) at most: {spread('max_backlog', '{:.0f}')} events; "
        f"drained {spread('drain_s', '{:.2f}')} s after the last 2xx",
        f"  stack CPU per event (user + system): {spread('cpu_ms_per_event')} ms",
        f"  of which inside moto (bench/aws_share.py): {spread('moto_cpu_ms_per_event')} ms: one interpreter with "
        f"moto as it is, making the same calls, passes at most {1000 / max(1e-9, in_moto):.0f} events/s if all else "
        f"cost nothing",
        f"  acknowledged but not on the queue (none arrived for 30 s): {spread('missing', '{:.0f}')}",
        f"  stack RSS after the webhooks: {spread('rss_mb', '{:.0f}')} MB (peak {spread('peak_rss_mb', '{:.0f}')})"
        f"   target <= {TARGET_RSS_MB:.0f} ({'met' if worst_rss <= TARGET_RSS_MB else 'NOT met'})",
    ]


TRANSPORTS = {"in-process": True, "http": False}


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--aws-transport", choices=[*TRANSPORTS, "both"], default="in-process",
                        help="how the stack's own AWS calls reach moto; both: interleaved runs of each, and ratios")
    args = parser.parse_args(argv)
    transports = list(TRANSPORTS) if args.aws_transport == "both" else [args.aws_transport]
    runs: dict[str, list[Run]] = {name: [] for name in transports}
    for _ in range(args.runs):
        for name in transports:  # interleaved: a noisy machine slows both alike
            runs[name].append(run_once(ROOT / "template.yaml", args.webhooks, args.senders,
                                       in_process=TRANSPORTS[name]))
    for name in transports:
        print(f"[stack's AWS calls: {name}]")
        print("\n".join(report(runs[name])))
    if len(transports) == 2:
        print("\n".join(compare(runs["http"], runs["in-process"])))


def compare(before: list[Run], after: list[Run]) -> list[str]:
    """Ratios of the medians, http / in-process (CPU per event is the fair figure on a shared machine)."""
    def median(runs: list[Run], name: str) -> float:
        return statistics.median(r.figures()[name] for r in runs)

    cpu = median(before, "cpu_ms_per_event") / max(1e-9, median(after, "cpu_ms_per_event"))
    rate = median(after, "delivered_per_s") / max(1e-9, median(before, "delivered_per_s"))
    return [f"in-process vs http: stack CPU per event {cpu:.2f}x less; inbox -> queue {rate:.2f}x faster"]


if __name__ == "__main__":
    main()
