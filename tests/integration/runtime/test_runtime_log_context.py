"""Issue 11.5: concurrent invocations in one process never share logger keys or metric buffers, and every
log record and EMF blob is one line. Run in a child process so its stdout is a real stream, as under
`erphub up`, and its output can be read whole."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local import log_context

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = Path(__file__).resolve().parent / "app" / "template.yaml"
INVOCATIONS = 24
STEPS = 4
SCRIPT = f"""
from concurrent.futures import ThreadPoolExecutor
from local.stack import HubStack

with HubStack({str(TEMPLATE)!r}, sandbox=False, runtime=False, preload=False) as stack:
    def invoke(n):
        function = "LogProbeAFunction" if n % 2 == 0 else "LogProbeBFunction"
        return stack.invoke(function, {{"n": n, "correlation_id": f"corr-{{n}}", "steps": {STEPS}}})

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert [r["n"] for r in pool.map(invoke, range({INVOCATIONS}))] == list(range({INVOCATIONS}))
"""


@pytest.fixture(scope="module")
def output() -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "POWERTOOLS_METRICS_NAMESPACE": "erphub"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def _objects(output: list[str]) -> list[dict]:
    """The lines that are one JSON object (the others are counted by the first test)."""
    objects = []
    for line in output:
        try:
            objects.append(json.loads(line))
        except ValueError:
            continue
    return [o for o in objects if isinstance(o, dict)]


def _function_for(n: int) -> str:
    return "LogProbeA" if n % 2 == 0 else "LogProbeB"


def test_every_line_is_one_json_object(output):
    not_json = []
    for line in output:
        try:
            json.loads(line)
        except ValueError:
            not_json.append(line)
    assert not_json == [], f"{len(not_json)} lines are not one JSON object, e.g. {not_json[:2]}"


def test_each_log_line_carries_its_own_invocations_function_and_correlation_id(output):
    # Given the probe lines of 24 concurrent invocations of two functions
    lines = [o for o in _objects(output) if o.get("message") == "probe step"]
    assert len(lines) == INVOCATIONS * STEPS
    # Then each line names the function and correlation id of the invocation that logged it
    wrong = [line for line in lines
             if line.get("correlation_id") != f"corr-{line.get('probe')}"
             or _function_for(line["probe"]) not in line.get("function_name", "")]
    assert wrong == [], f"{len(wrong)} lines carry another invocation's keys, e.g. {wrong[:1]}"
    # And each invocation logged its own steps once each
    steps = defaultdict(list)
    for line in lines:
        steps[line["probe"]].append(line["step"])
    assert {n: sorted(s) for n, s in steps.items()} == {n: list(range(STEPS)) for n in range(INVOCATIONS)}


def test_each_invocations_metrics_are_flushed_once_by_itself(output):
    blobs = [o for o in _objects(output) if "_aws" in o]
    flushed = defaultdict(list)
    for blob in blobs:
        names = {m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
        probes = {name for name in names if name.startswith("probe_")}
        assert len(probes) <= 1, f"one EMF blob holds several invocations' metrics: {sorted(probes)}"
        for name in probes:
            flushed[name].append(blob[name])
    assert flushed == {f"probe_{n}": [[1.0] * STEPS] for n in range(INVOCATIONS)}


def at_once(stack, function: str, events: list[dict]) -> list:
    """Every event to the function at once, a thread each; the answers in the events' order."""
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(lambda event: stack.invoke(function, event), events))


def get(route: str, n: int) -> dict:
    """A REST API event for GET /<route>/<n>."""
    return {"httpMethod": "GET", "path": f"/{route}/{n}", "resource": f"/{route}/{{n}}", "headers": {},
            "requestContext": {"requestId": f"req-{n}", "stage": "Prod"}, "pathParameters": {"n": str(n)}}


def test_concurrent_requests_to_one_rest_resolver_each_see_their_own_event(stack):
    # Given one function whose route reads app.current_event after a pause, invoked 16 times at once
    responses = at_once(stack, "RouterProbeFunction", [get("probe", n) for n in range(16)])
    # Then every response is about its own request
    bodies = [json.loads(r["body"]) for r in responses]
    assert [b["path"] for b in bodies] == [f"/probe/{n}" for n in range(16)]
    assert [b["n"] for b in bodies] == [str(n) for n in range(16)]
    assert len({b["request_id"] for b in bodies}) == 16


def test_concurrent_requests_to_one_rest_resolver_each_keep_their_own_routing_context(stack):
    # Given a route that puts its caller in the resolver's routing context (the operator API's role rule puts the
    # verified principal there; Powertools itself keeps the matched route and its arguments there), 16 at once
    responses = at_once(stack, "RouterProbeFunction", [get("context", n) for n in range(16)])
    # Then every request reads its own caller and route back, and none was cleared by another ending
    bodies = [json.loads(r["body"]) for r in responses]
    assert [(b["n"], b["caller"], b["path"]) for b in bodies] == [(str(n), str(n), f"/context/{n}") for n in range(16)]


def test_concurrent_batches_through_one_batch_processor_each_report_their_own_failures(stack):
    # Given one function with a module-level BatchProcessor, invoked 12 times at once, each with its own records,
    # every third of which fails
    def batch(n: int) -> dict:
        return {"Records": [{"messageId": f"m{n}-{i}", "body": "fail" if i % 3 == 0 else "ok", "eventSource": "aws:sqs",
                             "attributes": {}, "messageAttributes": {}} for i in range(6)]}

    responses = at_once(stack, "BatchProbeFunction", [batch(n) for n in range(12)])
    # Then every invocation processed its own records and reports its own failures, and only those
    assert [sorted(f["itemIdentifier"] for f in r["batchItemFailures"]) for r in responses] == \
        [[f"m{n}-0", f"m{n}-3"] for n in range(12)]


def test_concurrent_fifo_batches_each_skip_only_the_groups_they_failed(stack):
    # Given the FIFO processor (skip the rest of a failed message group) invoked 12 times at once, every batch with
    # the groups "a" and "b", where only the even batches fail their first "a" message
    def batch(n: int) -> dict:
        return {"fifo": True, "Records": [
            {"messageId": f"m{n}-{i}", "body": "fail" if i == 0 and n % 2 == 0 else "ok", "eventSource": "aws:sqs",
             "attributes": {"MessageGroupId": "ab"[i % 2]}, "messageAttributes": {}} for i in range(6)]}

    responses = at_once(stack, "BatchProbeFunction", [batch(n) for n in range(12)])
    # Then an even batch fails its group "a" and nothing else; an odd batch fails nothing
    assert [sorted(f["itemIdentifier"] for f in r["batchItemFailures"]) for r in responses] == \
        [[f"m{n}-0", f"m{n}-2", f"m{n}-4"] if n % 2 == 0 else [] for n in range(12)]


def test_powertools_is_the_pinned_version_and_keeps_its_state_where_log_context_expects(stack):
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    log_context.check_compatible()  # raises, naming what changed, when Powertools moves its state
    assert isinstance(vars(LambdaPowertoolsFormatter)["log_format"], log_context.PerInvocation)
    assert isinstance(vars(BaseRouter)["current_event"], log_context.PerInvocationClassAttribute)
    # every attribute listed is per invocation (check_compatible refuses one that is a method or class value)
    for module_name, class_name, attributes in log_context.PER_INVOCATION:
        cls = getattr(importlib.import_module(module_name), class_name)
        assert all(isinstance(vars(cls)[a], log_context.PerInvocation) for a in attributes), class_name
    log_context.install()  # idempotent


def test_a_class_value_of_a_per_invocation_name_is_refused_not_replaced(monkeypatch):
    # Given a Powertools release that would have a class value where log_context puts a per-invocation attribute
    from aws_lambda_powertools.utilities.batch.base import BasePartialProcessor

    monkeypatch.setattr(BasePartialProcessor, "exceptions", "a class value", raising=False)
    # Then the check names it instead of silently replacing it
    with pytest.raises(RuntimeError, match=r"BasePartialProcessor now has \['exceptions'\]"):
        log_context.check_compatible()
