"""The vendor sandbox in a process of its own (local/sandbox/process.py, what bench.workflows uses): connectors
reach it as they reach the one in-process, and it is steered through its control API the same way: seeds,
records, faults, limits, the gate's counts and how busy a vendor was."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from tests.integration.connectors.test_netsuite import (  # noqa: F401 - run again here, against this sandbox
    test_concurrency_limit_refusal_is_rate_limited,
)

from erphub.connectors.interfaces import ErpCustomer
from erphub.connectors.netsuite import NetSuiteErp
from local.sandbox.process import SandboxProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:  # this module's connectors reach the sandbox in its own process
    running = SandboxProcess()
    yield running
    running.stop()
    assert running._child.returncode == 0, "the sandbox process did not stop when its stdin closed"


def test_seeds_and_records_cross_the_process(sandbox):
    sandbox.seed("salesforce", "Account", {"Id": "001P", "Name": "Initech", "OwnerId": "005B"})
    assert [a["Name"] for a in sandbox.records("salesforce", "Account")] == ["Initech"]


def test_the_gate_counts_and_times_the_requests_it_admits(sandbox, connect):
    # Given each customer upsert taking 0.3 s at the ERP
    erp = connect(NetSuiteErp)
    erp.credentials  # noqa: B018 - the secret read first: only the requests are timed
    sandbox.faults.inject("netsuite", "customer.upsert", kind="latency", seconds=0.3, times=2)
    started = time.time()
    # When two customers are upserted one after the other
    for key in ("A", "B"):
        erp.upsert_customer(ErpCustomer(external_id=key, name=key))
    # Then the ERP admitted two requests, one at a time, and was busy for most of the time between them
    busy = sandbox.occupancy("netsuite")
    assert sandbox.admitted("netsuite") == 2 and sandbox.max_in_flight("netsuite") == 1
    assert started <= busy["first"] and busy["last"] - busy["first"] >= 0.6
    assert 0.5 < busy["mean_in_flight"] <= 1.0
    sandbox.reset()
    assert sandbox.admitted("netsuite") == 0 and sandbox.occupancy("netsuite") is None
