"""The throughput bench's figures (bench/local_stack_throughput.py): latency from the 2xx to the queue, the
largest backlog, the drain, and each figure judged against its target."""

from __future__ import annotations

import pytest
from bench.local_stack_throughput import Run, _max_backlog, report

pytestmark = pytest.mark.unit


def test_the_backlog_is_the_most_events_acknowledged_and_not_yet_on_the_queue():
    # 2xx at 1, 2, 3, 4; arrivals at 2.5, 2.6, 5, 6: after the 2xx at 4, two are still waiting... then 2
    assert _max_backlog([1, 2, 3, 4], [2.5, 2.6, 5, 6]) == 2
    assert _max_backlog([1, 2, 3], [1.1, 2.1, 3.1]) == 1
    assert _max_backlog([1, 2, 3], [9, 9, 9]) == 3


def _run(latency_ms: float, spacing: float, rss: float) -> Run:
    run = Run(webhooks=100, senders=16, started=0.0, rss_mb=rss, peak_rss_mb=rss, cpu_seconds=0.5,
              moto_cpu_seconds=0.2)
    for n in range(100):
        run.answered[f"e{n}"] = (n + 1) * spacing
        run.arrived[f"e{n}"] = (n + 1) * spacing + latency_ms / 1000
    return run


def test_figures_are_measured_from_the_2xx_to_the_message_on_the_queue():
    figures = _run(latency_ms=40, spacing=0.004, rss=500).figures()
    assert figures["p50_ms"] == pytest.approx(40) and figures["p99_ms"] == pytest.approx(40)
    assert figures["delivered_per_s"] == pytest.approx(100 / 0.44)  # last arrival at 0.4 s + 40 ms
    assert figures["drain_s"] == pytest.approx(0.04) and figures["missing"] == 0
    assert figures["cpu_ms_per_event"] == pytest.approx(5) and figures["moto_cpu_ms_per_event"] == pytest.approx(2)


def test_each_figure_is_printed_beside_its_target_and_judged_on_the_worst_run():
    fast, slow = _run(latency_ms=40, spacing=0.004, rss=500), _run(latency_ms=900, spacing=0.004, rss=1500)
    met = "\n".join(report([fast, fast, fast]))
    assert "target >= 200 (met)" in met and "target <= 500 (met)" in met and "target <= 1024 (met)" in met
    mixed = "\n".join(report([fast, slow, fast]))
    assert "target <= 500 (NOT met)" in mixed and "target <= 1024 (NOT met)" in mixed
    assert "min 40.0, max 900.0" in mixed
    # moto's 2 ms of each event's CPU: one interpreter could pass 500 events/s at most
    assert "inside moto (bench/aws_share.py): 2.0 (min 2.0, max 2.0) ms" in met and "at most 500 events/s" in met
