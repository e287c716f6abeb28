"""The one Logger, Tracer and Metrics every module imports (service name comes from POWERTOOLS_SERVICE_NAME),
and `emit`, the one way to publish a metric with dimensions.

Powertools' `metrics` puts every metric of an invocation under one dimension set, so a status or a system could
only be told apart by baking it into the metric name. `emit` writes its own record in CloudWatch's embedded metric
format instead (one JSON line on stdout, as Powertools' single_metric writes it, at a fifth of its cost: that
built and validated a whole metric set, with every unit listed, per call, ~0.025 ms of each webhook's ~0.09 ms of
own code), with dimensions from a closed list: `source`, `system`, `workflow`, `status`, `kind`. Their values are
bounded (a system kind, a workflow, a webhook source, a status) - never an id, which would make one metric per record.
The dashboard and the alarms name these metrics with the same dimension set (a house-rule test checks it), and
`service` is always written so that set does not depend on a function's environment.
"""

import json
import re
import time
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from erphub.xray import LazyXRayProvider

# an invocation that had nothing to count (an empty batch, a signal already handled) is normal here
warnings.filterwarnings("ignore", message="No application metrics to publish")

NAMESPACE = "erphub"
SERVICE = "erphub"
DIMENSIONS = frozenset({"source", "system", "workflow", "status", "kind"})
UNITS = frozenset(unit.value for unit in MetricUnit)  # CloudWatch's metric units, as Powertools lists them
# a dimension value is a short name; anything that looks like an id (digits, long strings) is refused by `emit`
_VALUE = re.compile(r"^[a-z][a-z_.-]{0,39}$")

logger = Logger()
tracer = Tracer(provider=LazyXRayProvider())  # the SDK is loaded where it records: erphub.xray
metrics = Metrics(namespace=NAMESPACE)


class MetricDimensionError(ValueError):
    """A metric was given a dimension outside the closed list, or a value that could be an id."""


def emit(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    """Publish one metric now, with its own dimensions (EMF on stdout; CloudWatch extracts it)."""
    unknown = set(dimensions) - DIMENSIONS
    if unknown:
        raise MetricDimensionError(f"{name}: dimensions {sorted(unknown)} are not in {sorted(DIMENSIONS)}")
    bad = {key: v for key, v in dimensions.items() if not _VALUE.match(str(v))}
    if bad:
        raise MetricDimensionError(f"{name}: dimension values {bad} are not bounded names")
    if unit not in UNITS:
        raise MetricDimensionError(f"{name}: unit {unit!r} is not one of CloudWatch's")
    dimensions = {"service": SERVICE, **dimensions}
    record = {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [
        {"Namespace": NAMESPACE, "Dimensions": [list(dimensions)], "Metrics": [{"Name": name, "Unit": unit}]}]},
        **dimensions, name: [float(value)]}
    print(json.dumps(record, separators=(",", ":")))


def emit_safely(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    """`emit` where observing must never fail the business call: a refused value is logged, not raised."""
    try:
        emit(name, value, unit, **dimensions)
    except MetricDimensionError:
        logger.warning("metric not emitted", extra={"metric": name, "dimensions": dimensions})


TRACE_KEYS = ("correlation_id", "business_key", "workflow", "action", "consumer")


def trace_keys(**keys: str | None) -> None:
    """Put the business keys (correlation id, business key, workflow, action) on every later log line of this
    invocation and on the X-Ray segment, so one query or filter finds everything that happened to a record.
    The previous record's keys are removed first: a batch's second message must not carry the first's ids."""
    unknown = set(keys) - set(TRACE_KEYS)
    if unknown:
        raise ValueError(f"trace keys {sorted(unknown)} are not in {TRACE_KEYS}")
    logger.remove_keys(list(TRACE_KEYS))
    present = {key: str(value) for key, value in keys.items() if value}
    logger.append_keys(**present)
    for key, value in present.items():
        # Powertools' Tracer is a no-op where tracing is disabled (tests, the local stack without X-Ray)
        tracer.put_annotation(key=key, value=value)
