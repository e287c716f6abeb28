"""Ingest benchmark: our webhook handler side by side with the minimal possible one; prints figures, asserts nothing.

    .venv/bin/python bench/ingest.py [--requests 300] [--cold 7] [--runs 3] [--tracing] [--no-end-to-end]
    .venv/bin/python bench/ingest.py --profile 2000   # cProfile of both handlers' warm paths, then exit

Both handlers run as Lambda runs them: each in its own fresh interpreter (bench/ingest_worker.py) with the
webhook function's environment from template.yaml, against the same embedded moto (every resource of the
template), fed the same kind of freshly signed Stripe webhook in the same API Gateway event (the body base64 with
isBase64Encoded, as the API's BinaryMediaTypes make it; both handlers decode it), in interleaved rounds (the order
alternates, so the shared machine's noise falls on both). The reference is bench/ingest_reference.py: verify the Stripe
signature, one conditional PutItem with plain boto3. Per run it prints
- warm latency (the handler's own time) p50 / p99 of both and their ratios (target p50 <= 1.10x), and the
  handler process's CPU time per webhook (moto's time is not in it: what our code itself costs); the same latency
  split into the time inside the AWS calls (mostly moto handling the PutItem, which grows with the item's
  attribute count) and outside them (the handler's own code);
- cold start (fresh interpreter: handler import + first request) median of both and the ratio (target <= 1.20x),
  and the same in the worker's CPU time, which the other processes of a shared machine do not inflate;
- the same cold start as shipped (target <= 1.20x): both handlers as `sam build` ships them (tools/artifact.py's
  x86_64 build: ours from the built function and layer, the reference as a one-file function; every file dated
  1980-01-01 as sam's zip dates it), in a clean python3.12 with only the runtime's boto3, run with -B as Lambda's
  read-only file system has it: what a module's missing or invalid .pyc costs shows here, not in the source tree;
- the AWS calls before the 2xx, first request and warm, and how many are writes (must be exactly 1);
then min / median / max of each ratio over the runs (CPU ratios are the fair ones on a shared machine), and the
import-time breakdowns of bench/import_breakdown.py (our handler's import from the source tree, top modules; one cold
start as shipped of each handler, per package, ours beside the reference's). Last, end to end on the
running local stack: a signed webhook POSTed over HTTP to the gateway until its canonical event is on its queue.
--tracing runs both handlers with X-Ray active as on Lambda (the reference does not trace: the ratio includes it).
--profile N sends N warm webhooks to each handler under cProfile (bench/ingest_worker.py profile), prints each one's
functions by own time and ours by cumulative time, and keeps the stats in the temporary directory for pstats.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "hub" / "python"), str(ROOT)]
from bench import import_breakdown, ingest_worker  # noqa: E402
from bench.ingest_end_to_end import end_to_end, percentile  # noqa: E402

WORKER = ROOT / "bench" / "ingest_worker.py"
KINDS = ("erphub", "reference")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem", "PutObject", "PutEvents",
          "SendMessage", "SendMessageBatch", "StartExecution", "PutMetricData"}
TARGETS = {"warm p50": 1.10, "cold start": 1.20, "cold start as shipped": 1.20}
# what Lambda gives a function with Tracing: Active (the trace header is the invocation's; one fixed one will do)
TRACING = {"AWS_XRAY_SDK_ENABLED": "true", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
           "_X_AMZN_TRACE_ID": "Root=1-67a0b1c2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"}


def api_event(body: bytes, headers: dict[str, str]) -> dict:
    return {
        "resource": "/webhooks/{source}", "path": "/webhooks/stripe", "httpMethod": "POST",
        "headers": {**headers, "Host": "bench.local", "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"source": "stripe"}, "stageVariables": None,
        "requestContext": {"requestId": "bench", "path": "/webhooks/stripe", "stage": "local", "httpMethod": "POST",
                           "resourcePath": "/webhooks/{source}", "identity": {"sourceIp": "127.0.0.1"},
                           "requestTimeEpoch": int(time.time() * 1000)},
        "body": base64.b64encode(body).decode(), "isBase64Encoded": True,
    }


def signed_event() -> str:
    """A new Stripe event (fresh vendor id), signed now with the dev endpoint secret the stack stored."""
    from tests import webhooks

    body, _ = webhooks.fresh("stripe", webhooks.sample("stripe/invoice.paid.json"))
    _, headers, body = webhooks.signed_request("stripe", "https://bench.local/webhooks/stripe", body)
    return json.dumps(api_event(body, headers)) + "\n"


def worker(kind: str, mode: str, env: dict[str, str], *options: str, extra: tuple[str, ...] = (),
           python: str = sys.executable) -> subprocess.Popen:
    return subprocess.Popen([python, *options, str(WORKER), kind, mode, *extra], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def shipped_build() -> tuple[str, Path]:
    """(the clean python3.12, the x86_64 build of tools/artifact.py), with the reference beside the build as a
    one-file function: built as sam build builds, dated as its zip dates every file."""
    from tools import artifact

    python = artifact.clean_python()
    built = artifact.build("x86_64", python, artifact.units())
    build = built["WebhookIngestFunction"].parent
    (reference,), _ = ingest_worker.shipped(build)["reference"]  # where the worker looks for it
    shutil.rmtree(reference, ignore_errors=True)
    reference.mkdir()
    shutil.copy2(ROOT / "bench" / "ingest_reference.py", reference)
    artifact.date_as_zipped(reference)
    return str(python), build


def ask(process: subprocess.Popen, line: str) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line)
    process.stdin.flush()
    answer = process.stdout.readline()
    if not answer:
        raise RuntimeError(f"worker died: {process.stderr.read() if process.stderr else ''}")
    result = json.loads(answer)
    if result["status"] not in (200, 202):
        raise RuntimeError(f"handler answered {result['status']}")
    return result


def warm(env: dict[str, str], requests: int) -> dict[str, Any]:
    """Interleaved rounds: each round one event to each handler, the order alternating."""
    workers = {kind: worker(kind, "warm", env) for kind in KINDS}
    first = {kind: ask(workers[kind], signed_event()) for kind in KINDS}
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    aws: dict[str, list[float]] = {kind: [] for kind in KINDS}
    calls: dict[str, set[tuple[str, ...]]] = {kind: set() for kind in KINDS}
    for round_ in range(requests):
        for kind in KINDS if round_ % 2 == 0 else reversed(KINDS):
            answer = ask(workers[kind], signed_event())
            samples[kind].append(answer["elapsed"] * 1000)
            cpu[kind].append(answer["cpu"] * 1000)
            aws[kind].append(answer["aws"] * 1000)
            calls[kind].add(tuple(answer["calls"]))
    for process in workers.values():
        process.communicate()
    return {"samples": samples, "cpu": cpu, "aws": aws, "first_calls": {k: first[k]["calls"] for k in KINDS},
            "warm_calls": calls}


def cold_worker(kind: str, env: dict[str, str], shipped: tuple[str, Path] | None, *options: str) -> subprocess.Popen:
    """A worker for one cold start: from the source tree, or as shipped (shipped_build()'s python and build, with -B:
    nothing written, as on Lambda's read-only file system)."""
    if shipped is None:
        return worker(kind, "cold", env, *options)
    return worker(kind, "cold", env, "-B", *options, extra=("--shipped", str(shipped[1])), python=shipped[0])


def cold(env: dict[str, str], runs: int, shipped: tuple[str, Path] | None = None) -> dict[str, dict[str, list[float]]]:
    """Fresh interpreters, alternating: handler import + first request (the interpreter's own start excluded),
    wall time and the worker's CPU time (robust to the other processes on a shared machine), in ms.
    shipped: (python, build) of shipped_build(), run with -B (nothing written, as on Lambda)."""
    figures = ("wall", "import", "first", "cpu", "import cpu")
    samples: dict[str, dict[str, list[float]]] = {kind: {f: [] for f in figures} for kind in KINDS}
    for run in range(runs):
        for kind in KINDS if run % 2 == 0 else reversed(KINDS):
            process = cold_worker(kind, env, shipped)
            answer = ask(process, signed_event())
            process.communicate()
            values = (answer["import"] + answer["first"], answer["import"], answer["first"], answer["cpu"],
                      answer["import_cpu"])
            for figure, value in zip(figures, values, strict=True):
                samples[kind][figure].append(value * 1000)
    return samples


def writes(calls: list[str] | tuple[str, ...]) -> int:
    return sum(call.partition(":")[2] in WRITES for call in calls)


def one_run(number: int, env: dict[str, str], args: argparse.Namespace,
            shipped: tuple[str, Path]) -> dict[str, float]:
    w, c, as_shipped = warm(env, args.requests), cold(env, args.cold), cold(env, args.cold, shipped)
    ours, ref = w["samples"]["erphub"], w["samples"]["reference"]
    outside = {kind: [t - a for t, a in zip(w["samples"][kind], w["aws"][kind], strict=True)] for kind in KINDS}
    ratios = {"warm p50": statistics.median(ours) / statistics.median(ref),
              "warm p99": percentile(ours, 0.99) / percentile(ref, 0.99),
              "warm CPU p50": statistics.median(w["cpu"]["erphub"]) / statistics.median(w["cpu"]["reference"]),
              "warm p50 outside AWS calls": statistics.median(outside["erphub"]) / statistics.median(
                  outside["reference"]),
              "cold start": statistics.median(c["erphub"]["wall"]) / statistics.median(c["reference"]["wall"]),
              "cold CPU": statistics.median(c["erphub"]["cpu"]) / statistics.median(c["reference"]["cpu"]),
              "cold start as shipped": statistics.median(as_shipped["erphub"]["wall"]) / statistics.median(
                  as_shipped["reference"]["wall"]),
              "cold CPU as shipped": statistics.median(as_shipped["erphub"]["cpu"]) / statistics.median(
                  as_shipped["reference"]["cpu"])}
    print(f"run {number}: {args.requests} warm webhooks per handler (interleaved), {args.cold} cold starts each")
    for kind in KINDS:
        s = w["samples"][kind]
        m = {figure: statistics.median(values) for figure, values in c[kind].items()}
        print(f"  {kind:9}  warm p50 {statistics.median(s):6.2f} ms  p99 {percentile(s, 0.99):6.2f} ms  CPU p50 "
              f"{statistics.median(w['cpu'][kind]):5.2f} ms   cold start "
              f"median {m['wall']:6.1f} ms (import {m['import']:.1f} + first request {m['first']:.1f}; min "
              f"{min(c[kind]['wall']):.1f}, max {max(c[kind]['wall']):.1f}); CPU {m['cpu']:.1f} ms "
              f"(import {m['import cpu']:.1f})")
    for kind in KINDS:
        m = {figure: statistics.median(values) for figure, values in as_shipped[kind].items()}
        print(f"  {kind:9}  cold start as shipped median {m['wall']:6.1f} ms (import {m['import']:.1f} + first request "
              f"{m['first']:.1f}); CPU {m['cpu']:.1f} ms")
    for kind in KINDS:  # the AWS call's time is mostly the embedded AWS (moto) handling it, not the handler
        print(f"  {kind:9}  warm p50 inside its AWS calls {statistics.median(w['aws'][kind]):5.2f} ms, outside them "
              f"{statistics.median(outside[kind]):5.2f} ms")
    for kind in KINDS:
        first, warm_calls = w["first_calls"][kind], sorted(w["warm_calls"][kind])
        print(f"  {kind:9}  AWS calls before the 2xx: first request {first} ({writes(first)} write); "
              f"warm {[list(c) for c in warm_calls]} (writes {sorted({writes(c) for c in warm_calls})})")
    print("  ratios: " + "   ".join(f"{name} {value:.2f}x" for name, value in ratios.items()))
    return ratios


def profile(env: dict[str, str], requests: int, top: int) -> None:
    """cProfile of each handler's warm path (the first request excluded), interleaved as in `warm`."""
    import pstats
    import tempfile

    paths = {kind: Path(tempfile.gettempdir()) / f"ingest-profile-{kind}.prof" for kind in KINDS}
    workers = {kind: worker(kind, "profile", env, extra=(str(paths[kind]),)) for kind in KINDS}
    for round_ in range(requests + 1):
        for kind in KINDS if round_ % 2 == 0 else reversed(KINDS):
            ask(workers[kind], signed_event())
    for process in workers.values():
        process.communicate()
    for kind in KINDS:
        stats = pstats.Stats(str(paths[kind]))
        print(f"{kind}: {requests} warm webhooks under cProfile ({stats.total_tt * 1000 / requests:.3f} ms profiled "
              f"time per webhook; cProfile inflates small calls), stats in {paths[kind]}")
        stats.sort_stats("tottime").print_stats(top)
        if kind == "erphub":
            stats.sort_stats("cumulative").print_stats(top * 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="warm webhooks per handler and run")
    parser.add_argument("--cold", type=int, default=7, help="cold starts per handler and run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=20, help="modules shown in the import-time breakdown")
    parser.add_argument("--tracing", action="store_true",
                        help="X-Ray active as on Lambda (the local stack disables the SDK); segments go to an unused "
                             "UDP port")
    parser.add_argument("--no-end-to-end", dest="end_to_end", action="store_false")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="only profile N warm webhooks per handler (cProfile) and print where the time goes")
    args = parser.parse_args()

    from local.stack import HubStack

    print("ingest: our webhook handler vs the minimal reference (bench/ingest_reference.py), each in its own "
          "interpreter with the webhook function's environment, against embedded moto (template.yaml)")
    # resources only: no pollers competing for the two cores while the handlers are timed
    with HubStack(ROOT / "template.yaml", sandbox=False, preload=False, runtime=False) as stack:
        env = dict(stack.functions.get("WebhookIngestFunction").environment)
        if args.tracing:
            env.update(TRACING)
        print(f"X-Ray: {'active, as on Lambda' if args.tracing else 'SDK disabled, as in the local stack'}")
        if args.profile:
            profile(env, args.profile, args.top)
            return
        shipped = shipped_build()
        results = [one_run(n + 1, env, args, shipped) for n in range(args.runs)]
        print(f"ratios over {len(results)} runs (ours / reference):")
        for name in results[0]:
            values = [r[name] for r in results]
            target = f"   target <= {TARGETS[name]:.2f}x: {'met' if max(values) <= TARGETS[name] else 'NOT met'}" \
                if name in TARGETS else ""
            print(f"  {name:10}  min {min(values):.2f}x  median {statistics.median(values):.2f}x  "
                  f"max {max(values):.2f}x{target}")
        import_breakdown.source_tree(worker, env, args.top)
        import_breakdown.as_shipped(lambda kind, *options: cold_worker(kind, env, shipped, *options), signed_event(),
                                    args.top)
    if args.end_to_end:
        end_to_end(max(50, args.requests // 3))


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    main()
