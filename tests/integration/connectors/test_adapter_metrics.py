"""The HTTP layer every connector shares counts calls, throttles, errors and latency per kind of system (netsuite
-> erp), so the dashboard and the ERP-throttle alarm hold whichever vendor is deployed."""

from __future__ import annotations

import json

import pytest

from erphub.connectors.interfaces import ErpCustomer
from erphub.connectors.netsuite import NetSuiteErp
from erphub.errors import RateLimited

pytestmark = pytest.mark.integration


def emitted(capsys) -> list[tuple[str, dict[str, str], float]]:
    found = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith('{"_aws"'):
            record = json.loads(line)
            [definition] = record["_aws"]["CloudWatchMetrics"]
            name = definition["Metrics"][0]["Name"]
            found.append((name, {d: record[d] for d in definition["Dimensions"][0]}, record[name][0]))
    return found


def test_a_throttled_then_served_call_is_counted_per_system_kind(sandbox, connect, capsys):
    erp = connect(NetSuiteErp)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=2, retry_after=0.1)
    capsys.readouterr()
    erp.upsert_customer(ErpCustomer(external_id="C-1", name="Acme"))
    metrics = emitted(capsys)
    names = [name for name, _, _ in metrics]
    assert names.count("adapter_throttled") == 2 and "adapter_errors" not in names
    assert names.count("adapter_calls") == names.count("adapter_latency") >= 3
    assert all(dims["system"] == "erp" and dims["service"] == "erphub" for _, dims, _ in metrics)
    assert all(value >= 0 for name, _, value in metrics if name == "adapter_latency")


def test_a_call_given_up_is_an_error_of_its_kind(sandbox, connect, capsys):
    erp = connect(NetSuiteErp, max_retry_wait_seconds=1.0)
    sandbox.faults.inject("netsuite", "customer.upsert", kind="429", times=1, retry_after=30)
    capsys.readouterr()
    with pytest.raises(RateLimited):
        erp.upsert_customer(ErpCustomer(external_id="C-2", name="Acme"))
    errors = [dims for name, dims, _ in emitted(capsys) if name == "adapter_errors"]
    assert errors == [{"service": "erphub", "system": "erp", "kind": "ratelimited"}]
