"""Ingest benchmark: prints figures, asserts nothing.

    .venv/bin/python bench/ingest.py [--requests 300]

- warm ingest latency per webhook: the webhook_ingest handler invoked in-process (as Lambda would) against
  the embedded moto holding every resource of template.yaml; median and p99;
- the handler's import (cold-start) time in a fresh interpreter, median of 5;
- the number of AWS calls made before the 2xx (first request of a cold handler, and warm);
- end to end on the running local stack: a signed webhook POSTed over HTTP to the gateway until its
  canonical event is on its queue (inbox -> stream -> publisher -> bus -> rule -> queue); median and p99.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "hub" / "python"), str(ROOT)]


def import_time(runs: int = 5) -> float:
    code = ("import sys, time; t = time.perf_counter(); "
            f"sys.path[:0] = [{str(ROOT / 'functions' / 'webhook_ingest')!r}, {str(ROOT / 'layers/hub/python')!r}]; "
            "import app; print(time.perf_counter() - t)")
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": "erphub", "AWS_DEFAULT_REGION": "us-east-1"}
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                    check=True).stdout.strip()) for _ in range(runs)]
    return statistics.median(samples)


class CallCounter:
    """Counts AWS API calls made by the current thread (the handler runs in the caller's thread)."""

    def __init__(self) -> None:
        from botocore.client import BaseClient

        self.local = threading.local()
        original = BaseClient._make_api_call
        counter = self

        def counted(client, operation, params):  # type: ignore[no-untyped-def]
            if getattr(counter.local, "calls", None) is not None:
                counter.local.calls.append(f"{client.meta.service_model.service_name}:{operation}")
            return original(client, operation, params)

        BaseClient._make_api_call = counted

    def during(self, action):  # type: ignore[no-untyped-def]
        self.local.calls = []
        try:
            result = action()
        finally:
            calls, self.local.calls = self.local.calls, None
        return result, calls


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    from tests import webhooks

    from local.stack import HubStack

    counter = CallCounter()
    sample = webhooks.sample("stripe/invoice.paid.json")
    # resources and functions only: no pollers competing for the two cores while the handler is timed
    with HubStack(ROOT / "template.yaml", sandbox=False, preload=False, runtime=False) as stack:

        def one() -> tuple[float, list[str]]:
            body, _ = webhooks.fresh("stripe", sample)
            _, headers, body = webhooks.signed_request("stripe", "https://bench.local/webhooks/stripe", body)
            event = api_event(body, headers)
            started = time.perf_counter()
            response, calls = counter.during(lambda: stack.invoke("WebhookIngestFunction", event))
            elapsed = time.perf_counter() - started
            assert response["statusCode"] == 202, response
            return elapsed, calls

        cold_elapsed, cold_calls = one()
        results = [one() for _ in range(args.requests)]
    latencies = sorted(r[0] * 1000 for r in results)
    warm_calls = {len(r[1]) for r in results}
    print(f"ingest, {args.requests} signed Stripe webhooks, in-process handler against embedded moto (template.yaml)")
    print(f"  warm latency      median {statistics.median(latencies):.2f} ms   "
          f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} ms   max {latencies[-1]:.2f} ms")
    print(f"  first request     {cold_elapsed * 1000:.1f} ms (handler import + secret fetch)")
    print(f"  AWS calls before the 2xx: first request {len(cold_calls)} ({', '.join(cold_calls)}); "
          f"warm {sorted(warm_calls)} (writes: {sum(':PutItem' in c or 'Transact' in c for c in results[0][1])})")
    print(f"  handler import (cold start) in a fresh interpreter: median of 5 = {import_time() * 1000:.0f} ms")
    end_to_end(max(50, args.requests // 3))


def end_to_end(count: int) -> None:
    """Webhook over HTTP -> canonical event on its queue, one at a time (the queue's consumers are held)."""
    from tests import webhooks

    from local.stack import HubStack

    sample = webhooks.sample("gainsight/renewal_risk_changed.json")
    with HubStack(ROOT / "template.yaml", sandbox=False) as stack:
        stack.pause_consumers("RenewalRiskQueue")
        sqs, url = stack.client("sqs"), stack.physical("RenewalRiskQueue")
        gateway, samples = stack.endpoints["gateway"], []
        deadline = time.monotonic() + 120
        for _ in range(count + 5):  # the first five warm the handlers up and are not counted
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            assert webhooks.post(gateway, "gainsight", sample).status_code == 202
            while not (messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages")):
                if time.perf_counter() - started > 10:
                    raise TimeoutError("the event did not reach its queue within 10 s")
                time.sleep(0.002)
            samples.append((time.perf_counter() - started) * 1000)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    latencies = sorted(samples[5:])
    print(f"end to end on the local stack (template.yaml): signed Gainsight webhook over HTTP -> event on "
          f"its queue, {len(latencies)} sequential requests")
    print(f"  median {statistics.median(latencies):.1f} ms   p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms"
          f"   max {latencies[-1]:.1f} ms")


if __name__ == "__main__":
    main()
