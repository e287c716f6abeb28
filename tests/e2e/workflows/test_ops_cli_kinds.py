"""The operator's day with `erphub ops` (a process of its own, signed in with a dev user's Cognito ID token, over
the local stack's gateway) for the kinds nothing waits on: a reconciliation mismatch and a workflow past its
completion SLA — found with `exceptions --kind`, inspected with `show`, their cause fixed where it lies, closed with
`resolve --note`, seen done — and an event the outbox could not publish, repaired by replaying its stored webhook.
Each ends with the vendor sandbox's records and the audit trail."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from flows import correlation, erp_customers, sales_orders, subscriptions
from kinds_days import contract_result, drifted, late_activation, set_erp_seats, unpublishable
from stack_driver import ROOT

from erphub_cli.client import sign_in
from local.cognito_authorizer import dev_users
from local.template import REGION

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
OPERATOR = dev_users()["operator"]["email"]


@pytest.fixture(scope="module")
def tokens(stack) -> dict[str, str]:
    client = stack.physical("OpsUserPoolClient")
    return {role: sign_in(client, user["email"], user["password"], region=REGION,
                          endpoint_url=stack.aws.url)["IdToken"] for role, user in dev_users().items()}


@pytest.fixture
def ops(stack, tokens):
    """`erphub ops ARGS` as `role`, a process of its own as an operator runs it (signed in through ERPHUB_OPS_TOKEN,
    as a CI job does) -> (exit code, stdout, stderr)."""
    def run(*args: str, role: str = "operator") -> tuple[int, str, str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPHUB_OPS_TOKEN": tokens[role],
               "ERPHUB_OPS_URL": stack.endpoints["gateway"] + "/ops/v1"}
        done = subprocess.run([sys.executable, "-m", "local.cli", "ops", *args], env=env, capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        return done.returncode, done.stdout, done.stderr

    return run


def as_json(ops, *args: str):
    code, out, err = ops("--json", *args)
    assert code == 0, err
    return json.loads(out)


def find(hub, ops, kind: str, business_id: str) -> dict:
    return hub.stack.wait_until(lambda: next(iter(as_json(ops, "exceptions", "--kind", kind, "--business-id",
                                                          business_id)), None), timeout=60, interval=0.5)


def resolve_once(ops, exception_id: str, note: str) -> str:
    """A viewer is refused, a resolve without a note is a usage error; the operator's resolve closes it once."""
    code, _, err = ops("resolve", exception_id, "--note", note, role="viewer")
    assert code == 1 and "Forbidden" in err and "Traceback" not in err
    usage, _, said = ops("resolve", exception_id)
    assert usage == 2 and "--note" in said
    code, out, err = ops("resolve", exception_id, "--note", note)
    assert code == 0, err
    again, _, refused = ops("resolve", exception_id, "--note", note)
    assert again == 1 and "Traceback" not in refused
    return out


def shown_done(ops, exception_id: str, note: str) -> dict:
    code, out, _ = ops("show", exception_id)
    assert code == 0 and "status        resolved" in out and f"{OPERATOR} resolve: open -> resolved — {note}" in out
    detail = as_json(ops, "show", exception_id)
    assert detail["resolved_by"] == OPERATOR and detail["actions"] == []
    return detail


def test_kinds_lists_every_kind_with_its_owner_and_actions(hub, ops):
    code, out, _ = ops("kinds")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {k["kind"] for k in as_json(ops, "kinds")}
    assert "finance-systems" in lines["reconciliation_mismatch"] and lines["workflow_sla_breached"].endswith(
        "resolve, abandon")


def test_a_reconciliation_mismatch_fixed_in_netsuite_is_resolved_with_the_cli(hub, ops):
    # Given drift an accountant made in NetSuite, found by a reconciliation the operator ran
    deal = drifted(hub, "CliKindRecon")
    assert contract_result(as_json(ops, "reconcile"), deal)["outcome"] == "mismatched"
    # The operator finds it by kind and deal, and reads each system's value
    found = find(hub, ops, "reconciliation_mismatch", deal.opportunity_id)
    code, out, _ = ops("show", found["exception_id"])
    assert code == 0 and "PLATFORM-ENT" in out and "resolve, abandon" in out
    # When they set the line back in NetSuite and resolve the exception saying so
    set_erp_seats(hub, deal, 100)
    note = "US order line set back to 100 seats in NetSuite"
    assert f"resolved — resolved by {OPERATOR}: {note}" in resolve_once(ops, found["exception_id"], note)
    # Then it shows done, and the next reconciliation finds the contract matched and opens nothing
    shown_done(ops, found["exception_id"], note)
    assert contract_result(as_json(ops, "reconcile"), deal)["outcome"] == "matched"
    assert as_json(ops, "exceptions", "--kind", "reconciliation_mismatch", "--business-id", deal.opportunity_id) == []
    # And one order per entity in NetSuite, one subscription per entity in Stripe
    assert len(sales_orders(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 2


def test_a_workflow_past_its_sla_is_seen_to_and_resolved_with_the_cli(hub, ops):
    # Given an activation that has waited on a NetSuite outage past its 4 h completion SLA
    deal = late_activation(hub, "CliKindLate")
    breach = find(hub, ops, "workflow_sla_breached", correlation(deal))
    assert "past its completion SLA of 4 h" in breach["reason"] and breach["owner"] == "integration-ops"
    # The operator looks at the run, finds the outage that holds it and resumes it once NetSuite is back
    run = as_json(ops, "run", correlation(deal))
    [outage] = [e for e in run["exceptions"] if e["kind"] == "erp_outage"]
    hub.sandbox.faults.clear()
    code, _, err = ops("resume", outage["exception_id"], "--note", "NetSuite is back")
    assert code == 0, err
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    # When they resolve the breach, saying what was done; then it shows done
    resolve_once(ops, breach["exception_id"], "outage over, activation resumed")
    shown_done(ops, breach["exception_id"], "outage over, activation resumed")
    # Then the run is completed with both actions in its audit trail, one record per business object
    run = as_json(ops, "run", correlation(deal))
    assert run["status"] == "completed"
    assert {(a["action"], a["actor"]) for a in run["audit"]} >= {("resume", OPERATOR), ("resolve", OPERATOR)}
    assert len(sales_orders(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2
    assert len(subscriptions(hub, deal)) == 2
    assert as_json(ops, "exceptions", "--business-id", correlation(deal)) == []


def test_an_unpublishable_event_is_repaired_by_replaying_its_webhook_with_the_cli(hub, ops, monkeypatch):
    # Given a closed-won deal whose stored event got corrupted before it was published (a mapping bug): the outbox
    # sweep cannot publish it, quarantines it and opens an outbox_unpublishable exception
    deal, key = unpublishable(hub, monkeypatch, "CliKindOutbox")
    # The operator finds it by kind and webhook, and reads why it could not be published
    found = find(hub, ops, "outbox_unpublishable", key)
    code, out, _ = ops("show", found["exception_id"])
    assert code == 0 and "cannot be published" in out and "integration-ops" in out
    # When they replay the stored webhook, mapped again (the mapping is fixed)
    code, out, err = ops("replay", key, "--note", "event re-mapped from the stored webhook")
    assert code == 0 and "replayed as crm.opportunity.closed_won" in out, err
    # Then the deal is activated once and the exception shows done, resolved by the replay
    assert hub.execution("activation", deal.opportunity_id, timeout=60)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
    assert len(erp_customers(hub, deal)) == 2
    detail = as_json(ops, "show", found["exception_id"])
    assert detail["status"] == "resolved" and detail["resolved_by"] == OPERATOR
    # the replay's close is audited with the stored status "closed" (the inbox shows it as resolved)
    assert [(e["actor"], e["before"]["status"], e["after"]["status"]) for e in detail["audit"]] == [
        (OPERATOR, "open", "closed")]
    assert as_json(ops, "exceptions", "--kind", "outbox_unpublishable", "--business-id", key) == []
    # and a second replay does nothing
    again, _, refused = ops("replay", key)
    assert again == 1 and "Traceback" not in refused
    assert len(subscriptions(hub, deal)) == 2
