"""`erphub ops reconcile` as an operator runs it against `erphub up`: a NetSuite order line changed behind the hub's
back through the sandbox's control API is reported with each system's value and the exception that tracks it;
a viewer may read a report but not start a run."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import requests
from test_cli import _run, running_stack  # noqa: F401 - the `erphub up` fixture

sys.path.insert(0, str(Path(__file__).with_name("workflows")))
from deals import Deal

from local import webhooks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def ops(workdir: Path, *args: str):
    return _run(["ops", *args], workdir)


def booked_order(sandbox: str, deal: Deal) -> dict:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        orders = requests.get(f"{sandbox}/_sandbox/records/netsuite/salesOrder", timeout=10).json()
        found = [o for o in orders if o.get("otherRefNum") == deal.opportunity_id
                 and o["entity"]["externalId"].endswith(":LE-US")]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no sales order for {deal.opportunity_id}")


def test_an_operator_reconciles_on_demand_and_sees_the_drift(running_stack):  # noqa: F811
    workdir, endpoints, _, _ = running_stack
    # Given an activated deal whose US order line an accountant changed in NetSuite (100 -> 80 seats)
    deal = Deal("CliRecon")
    status, _ = webhooks.post(endpoints["gateway"], "salesforce", deal.outbound_message())
    assert status == 200
    order = booked_order(endpoints["sandbox"], deal)
    for line in order["item"]["items"]:
        if line["item"]["externalId"] == "PLATFORM-ENT":
            line["quantity"] = 80
    assert requests.post(f"{endpoints['sandbox']}/_sandbox/records/netsuite/salesOrder", json=order,
                         timeout=10).status_code == 201
    # A viewer may not start a reconciliation
    assert ops(workdir, "login", "--user", "viewer").returncode == 0
    refused = ops(workdir, "reconcile")
    assert refused.returncode == 1 and "Forbidden" in refused.stderr and "Traceback" not in refused.stderr
    # When the operator reconciles now
    assert ops(workdir, "login", "--user", "operator").returncode == 0
    result = ops(workdir, "--json", "reconcile")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Then the report is complete and names the drift, with the exception that tracks it
    assert report["status"] == "completed" and report["mismatched"] == 1 and report["exceptions_opened"] == 1
    (contract,) = [c for c in report["contracts"] if c["contract_id"] == deal.opportunity_id]
    (mismatch,) = contract["mismatches"]
    assert {k: mismatch[k] for k in ("entity", "sku", "field", "contract", "billing", "erp")} == {
        "entity": "LE-US", "sku": "PLATFORM-ENT", "field": "quantity", "contract": "100", "billing": "100",
        "erp": "80"}
    listed = json.loads(ops(workdir, "--json", "exceptions", "--kind", "reconciliation_mismatch",
                            "--business-id", deal.opportunity_id).stdout)
    assert [e["exception_id"] for e in listed] == [mismatch["exception_id"]]
    # And the readable report, shown again by id, says the same in one line per mismatch
    shown = ops(workdir, "reconcile", "--id", report["reconciliation_id"])
    assert shown.returncode == 0, shown.stderr
    assert "1 mismatched" in shown.stdout
    assert (f"{deal.opportunity_id} LE-US PLATFORM-ENT quantity: contract 100, billing 100, ERP 80  "
            f"[{mismatch['exception_id']}]") in shown.stdout
