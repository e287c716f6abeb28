"""bench/ingest.py's last part: end to end on the running local stack, a signed webhook POSTed over HTTP to the
gateway until its canonical event is on its queue; and the percentile the ingest figures use."""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


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
    print(f"  median {statistics.median(latencies):.1f} ms   p99 {percentile(latencies, 0.99):.1f} ms"
          f"   max {latencies[-1]:.1f} ms")
