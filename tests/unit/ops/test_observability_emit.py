"""Metrics carry dimensions from a closed list and never an id; the trace keys are on every later log line and
are replaced, not accumulated, from one queue message to the next."""

from __future__ import annotations

import io
import json

import pytest

from erphub.errors import UnknownSource
from erphub.observability import MetricDimensionError, emit, emit_safely, logger, trace_keys


def test_a_metric_is_one_emf_record_with_its_own_dimensions(capsys):
    emit("webhooks", source="stripe", status="quarantined")
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "source", "status"]]
    assert (record["service"], record["source"], record["status"], record["webhooks"]) == (
        "erphub", "stripe", "quarantined", [1.0])


@pytest.mark.parametrize("dimensions", [{"contract": "activation"}, {"system": "ORD-1042"}, {"kind": "x" * 60},
                                        {"source": "salesforce/../x"}])
def test_a_dimension_outside_the_list_or_a_value_like_an_id_is_refused(dimensions, capsys):
    with pytest.raises(MetricDimensionError):
        emit("webhooks", **dimensions)
    emit_safely("webhooks", **dimensions)  # where observing must not fail the call: logged, not published
    assert '"_aws"' not in capsys.readouterr().out


@pytest.fixture
def log_lines():
    out = io.StringIO()
    previous = logger.registered_handler.setStream(out)  # type: ignore[attr-defined]
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    trace_keys()


def test_trace_keys_are_on_every_log_line_and_replaced_per_message(log_lines):
    trace_keys(correlation_id="contract:salesforce:006A", business_key="006A", workflow="activation",
               action="erp.create_sales_order")
    logger.info("first")
    trace_keys(consumer="erp-posting", correlation_id="invoice:stripe:in_1")
    logger.info("second")
    first, second = log_lines()
    assert (first["correlation_id"], first["business_key"], first["workflow"], first["action"]) == (
        "contract:salesforce:006A", "006A", "activation", "erp.create_sales_order")
    assert second["correlation_id"] == "invoice:stripe:in_1" and "business_key" not in second
    assert "workflow" not in second and second["consumer"] == "erp-posting"


@pytest.mark.parametrize(("source", "counted_as"), [("stripe", "stripe"), ("quickbooks", "unknown"),
                                                    ("ORD-1042", "unknown")])
def test_a_refused_webhook_is_counted_under_a_known_source_only(source, counted_as, capsys):
    # the {source} path segment is the caller's to choose: it must not become a dimension value of its own
    from erphub.ingest import api_gateway  # the webhook function's refusals (functions/webhook_ingest)

    capsys.readouterr()
    api_gateway.refused(UnknownSource("refused", system=source))
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"_aws"')]
    assert (line["source"], line["status"], line["webhooks"]) == (counted_as, "refused", [1.0])
