"""`erphub ops` as an operator runs it, against `erphub up` in another process: sign in as a dev user, find the
exception, read it, act on it; readable output, --json, one-line errors with non-zero exit codes, no traceback."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import requests
from test_cli import ROOT, _run, running_stack  # noqa: F401 - the `erphub up` fixture

sys.path.insert(0, str(Path(__file__).with_name("workflows")))
from deals import Deal

from local import webhooks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def ops(workdir: Path, *args: str):
    return _run(["ops", *args], workdir)


def wait_for(workdir: Path, kind: str, deal: Deal) -> dict:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        listed = ops(workdir, "--json", "exceptions", "--kind", kind, "--business-id", deal.opportunity_id)
        assert listed.returncode == 0, listed.stderr
        if found := json.loads(listed.stdout):
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no {kind} exception for {deal.opportunity_id}")


def one_line_error(result, code: int, *words: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in result.stderr for w in words), result.stderr


def test_an_operators_day_from_the_command_line(running_stack):  # noqa: F811
    workdir, endpoints, _, _ = running_stack
    # Not signed in: told how to sign in
    one_line_error(ops(workdir, "exceptions"), 2, "not signed in", "erphub ops login")
    # Given a large deal waiting for approval and a deal missing a tax id
    big, untaxed = Deal("CliBig"), Deal("CliTax")
    untaxed.entities[1]["tax_id"] = None
    seeded = requests.post(f"{endpoints['sandbox']}/_sandbox/records/salesforce/Opportunity",
                           json=untaxed.fields(), timeout=10)  # the CRM that masters the fix
    assert seeded.status_code == 201
    for deal, fields in ((big, {"Amount": "900000.0"}), (untaxed, {})):
        status, _ = webhooks.post(endpoints["gateway"], "salesforce", deal.outbound_message(**fields))
        assert status == 200
    # A viewer finds them but may not act
    assert ops(workdir, "login", "--user", "viewer").returncode == 0
    approval = wait_for(workdir, "approval", big)
    one_line_error(ops(workdir, "approve", approval["exception_id"]), 1, "Forbidden", "operator group")
    # The operator reads the inbox and the exception as tables
    assert ops(workdir, "login", "--user", "operator").returncode == 0
    table = ops(workdir, "exceptions")
    assert table.returncode == 0 and table.stdout.startswith("EXCEPTION_ID")
    assert approval["exception_id"] in table.stdout
    shown = ops(workdir, "show", approval["exception_id"])
    assert shown.returncode == 0 and "deal-desk" in shown.stdout and "approve, reject, abandon" in shown.stdout
    # approves once (a second time is refused), and fixes the tax id by path
    approved = ops(workdir, "approve", approval["exception_id"], "--note", "CFO ok")
    assert approved.returncode == 0 and "resolved — approved by operator@erphub.local" in approved.stdout
    one_line_error(ops(workdir, "approve", approval["exception_id"]), 1, "Conflict", "resolved")
    quality = wait_for(workdir, "data_quality", untaxed)
    fixed = ops(workdir, "fix", quality["exception_id"], "--set", "account.legal_entities[1].tax_id=DE123456789")
    assert fixed.returncode == 0, fixed.stderr
    assert "account.legal_entities[1].tax_id: None -> 'DE123456789' (written to salesforce)" in fixed.stdout
    [opportunity] = [o for o in requests.get(f"{endpoints['sandbox']}/_sandbox/records/salesforce/Opportunity",
                                             timeout=10).json() if o["Id"] == untaxed.opportunity_id]
    assert [e["tax_id"] for e in json.loads(opportunity["Legal_Entities__c"])][1] == "DE123456789"
    # Then both are resolved, with the operator and the note in the audit trail
    detail = json.loads(ops(workdir, "--json", "show", approval["exception_id"]).stdout)
    assert detail["status"] == "resolved" and detail["audit"][0]["note"] == "CFO ok"
    one_line_error(ops(workdir, "show", "no-such-exception"), 1, "NotFound")
    notices = ops(workdir, "notifications")
    assert notices.returncode == 0 and "hub.exception.opened" in notices.stdout and "deal-desk" in notices.stdout
    one_line_error(ops(workdir, "abandon", quality["exception_id"]), 2, "--reason")
