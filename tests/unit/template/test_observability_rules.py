"""House rules of observability (issue 10): every workflow has its failed and timed-out alarm, every API its 4XX
and 5XX alarms, every webhook source its quarantine alarm, every alarm goes to the operators' topic, and every
hub metric the alarms and the dashboard name is emitted by some code path with exactly that dimension set (an
alarm on a dimension set nobody writes is silent forever)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from erphub.observability import DIMENSIONS, NAMESPACE
from erphub.sources import SOURCE_NAMES
from local.cfn_yaml import load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
RESOURCES = load_template(ROOT / "template.yaml")["Resources"]
ALARMS = {lid: r["Properties"] for lid, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>[^,}]+),(?P<dims>[^}]*)\} MetricName=\"(?P<name>\w+)\"")


def _emitted() -> dict[str, list[dict[str, str | None]]]:
    """metric name -> the dimension sets code emits it with ({dimension: literal value, or None if computed})."""
    found: dict[str, list[dict[str, str | None]]] = {}
    for path in [*ROOT.joinpath("layers").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "emit", "emit_safely") and node.args and isinstance(node.args[0], ast.Constant):
                dims = {k.arg: k.value.value if isinstance(k.value, ast.Constant) else None
                        for k in node.keywords if k.arg}
                found.setdefault(str(node.args[0].value), []).append(dims)
    return found


EMITTED = _emitted()


def _is_emitted(name: str, dims: dict[str, str | None]) -> bool:
    return any(set(emitted) == set(dims) and all(emitted[k] in (None, dims[k]) or dims[k] is None for k in dims)
               for emitted in EMITTED.get(name, []))


def _alarm_metrics() -> list[tuple[str, str, dict[str, str | None]]]:
    found = []
    for lid, alarm in ALARMS.items():
        if alarm.get("Namespace") == NAMESPACE:
            dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            assert dims.pop("service", None) == "erphub", f"{lid}: emit() always writes service=erphub"
            found.append((lid, alarm["MetricName"], dims))
    return found


def _dashboard_metrics() -> list[tuple[str, str, dict[str, str | None]]]:
    [dashboard] = [r for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", dashboard["Properties"]["DashboardBody"]["Fn::Sub"]))
    found = []
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):  # a SEARCH expression: every value of its dimensions
                search = SEARCH.search(row[0]["expression"])
                assert search, f"unreadable expression {row[0]['expression']}"
                if search["namespace"] == NAMESPACE:
                    dims = [d for d in search["dims"].split(",") if d != "service"]
                    found.append((widget["properties"]["title"], search["name"], dict.fromkeys(dims)))
            elif row[0] == NAMESPACE:
                pairs = [v for v in row[2:] if isinstance(v, str)]
                dims = dict(zip(pairs[::2], pairs[1::2], strict=True))
                assert dims.pop("service", None) == "erphub", f"{row}: emit() always writes service=erphub"
                found.append((widget["properties"]["title"], row[1], dims))
    return found


def test_the_scan_finds_the_emit_sites():
    assert {"webhooks", "adapter_calls", "adapter_throttled", "workflow_outcomes", "exceptions_open"} <= set(EMITTED)
    assert all(set(dims) <= DIMENSIONS for sets in EMITTED.values() for dims in sets)


@pytest.mark.parametrize(("where", "name", "dims"), _alarm_metrics() + _dashboard_metrics(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_hub_metric_referenced_is_emitted_with_those_dimensions(where, name, dims):
    assert _is_emitted(name, dims), f"{where}: no code emits {name} with {dims}; emitted: {EMITTED.get(name)}"


def test_every_state_machine_has_its_failed_and_timed_out_alarm():
    machines = [lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::StateMachine"]
    assert len(machines) >= 4
    for machine in machines:
        watched = {a["MetricName"] for a in ALARMS.values() if a.get("Namespace") == "AWS/States"
                   and {"Name": "StateMachineArn", "Value": {"Ref": machine}} in a["Dimensions"]}
        assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}, machine


def test_every_api_has_its_4xx_and_5xx_alarm():
    apis = {lid: r["Properties"]["Name"] for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Api"}
    assert len(apis) == 3
    for lid, name in apis.items():
        watched = {a["MetricName"] for a in ALARMS.values() if a.get("Namespace") == "AWS/ApiGateway"
                   and {"Name": "ApiName", "Value": name} in a["Dimensions"]}
        assert watched == {"4XXError", "5XXError"}, lid


def test_every_webhook_source_has_a_quarantine_alarm():
    quarantined = {d["source"] for _, name, d in _alarm_metrics()
                   if name == "webhook_outcomes" and d.get("status") == "quarantined"}
    assert quarantined == set(SOURCE_NAMES)


def test_the_publishers_event_lag_and_the_erp_throttles_alarm():
    lag = [a for a in ALARMS.values() if a["MetricName"] == "IteratorAge"]
    assert [a["Dimensions"] for a in lag] == [[{"Name": "FunctionName", "Value": {"Ref": "PublisherFunction"}}]]
    assert any(name == "adapter_throttled" and d == {"system": "erp"} for _, name, d in _alarm_metrics())
    assert {name for _, name, _ in _alarm_metrics()} >= {"exceptions_past_sla", "erp_sync_pending"}


def test_every_alarm_tells_the_operators():
    assert len(ALARMS) >= 39  # 13 DLQs, 8 workflow, 6 API, 12 metric alarms
    for lid, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == [{"Ref": "OperatorAlarmTopic"}], lid
