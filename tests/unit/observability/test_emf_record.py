"""`emit` writes its EMF record itself (cheaper per webhook than Powertools' `single_metric`): the record must be the
one `single_metric` prints, key for key and in the same order, and refuse what it refuses."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.metrics import MetricUnit, MetricValueError, single_metric
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import MetricNameError

from erphub.observability import NAMESPACE, SERVICE, emf_record, emit


def powertools_record(name, value, unit, dimensions, capsys) -> dict:
    capsys.readouterr()
    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE, **dimensions}):
        pass
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("name", "value", "unit", "dimensions"), [
    ("webhooks", 1, "Count", {"source": "stripe", "status": "accepted"}),
    ("erp_call_ms", 12.5, "Milliseconds", {"system": "netsuite"}),
    (" padded ", 3, "Seconds", {}),
    ("events_claim_checked", 0, "Count", {"kind": "event", "status": "ok", "workflow": "activation"}),
])
def test_the_record_is_the_one_powertools_single_metric_prints(name, value, unit, dimensions, capsys):
    expected = powertools_record(name, value, unit, dimensions, capsys)
    ours = emf_record(name, value, unit, dimensions)
    assert abs(ours["_aws"].pop("Timestamp") - expected["_aws"].pop("Timestamp")) < 5_000  # type: ignore[attr-defined]
    assert json.dumps(ours) == json.dumps(expected)  # same keys, values and order


def test_emit_prints_one_compact_line(capsys):
    capsys.readouterr()
    emit("webhooks", source="stripe", status="duplicate")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and ", " not in out and json.loads(out)["webhooks"] == [1.0]


@pytest.mark.parametrize(("name", "value", "unit", "error"), [
    ("webhooks", "1", "Count", MetricValueError),
    ("webhooks", 1, "Parsecs", ValueError),
    ("   ", 1, "Count", MetricNameError),
    ("x" * 256, 1, "Count", MetricNameError),
])
def test_what_single_metric_refuses_is_refused(name, value, unit, error, capsys):
    with pytest.raises(error):
        powertools_record(name, value, unit, {}, capsys)
    with pytest.raises(error):
        emf_record(name, value, unit, {})
