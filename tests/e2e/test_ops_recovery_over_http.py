"""Recovery and history as an operator reaches them: over the operator API (/ops/v1, through the gateway and its
Cognito authorizer) and `erphub ops`, on the local stack of the real template with the vendor sandbox. Checked
where it counts: the vendors' records (one per business object), the audit trail and the timeline."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from tests.e2e.test_recovery import (
    OVERRIDES,
    activation,
    corrected_contract,
    end_state,
    executions_of,
    records,
    send_deal,
    stripe_invoice,
)
from tests.e2e.workflows.deals import Deal

from erphub_cli import ops as ops_cli
from erphub_cli.client import sign_in
from local import webhooks
from local.cognito_authorizer import dev_users
from local.stack import HubStack
from local.template import REGION

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = dev_users()["operator"]["email"]


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", parameter_overrides=OVERRIDES) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack):
    """call(method, path, role="operator", body=None) -> requests.Response, with the dev user's Cognito ID token."""
    client = stack.physical("OpsUserPoolClient")
    tokens = {role: sign_in(client, user["email"], user["password"], region=REGION,
                            endpoint_url=stack.aws.url)["IdToken"] for role, user in dev_users().items()}
    base = stack.endpoints["gateway"] + "/ops/v1"

    def call(method: str, path: str, role: str = "operator", body: dict | None = None, **query) -> requests.Response:
        return requests.request(method, base + path, headers={"Authorization": tokens[role]}, params=query or None,
                                json=body, timeout=60)

    call.base, call.tokens = base, tokens
    return call


@pytest.fixture
def cli(api, monkeypatch, capsys):
    """erphub ops in-process, signed in as the operator (ERPHUB_OPS_TOKEN/URL, as a CI job does)."""
    monkeypatch.setenv("ERPHUB_OPS_TOKEN", api.tokens["operator"])
    monkeypatch.setenv("ERPHUB_OPS_URL", api.base)

    def run(*args: str) -> tuple[int, str, str]:
        code = ops_cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_a_quarantined_deal_is_repaired_and_replayed_once_over_the_api(stack, api, cli):
    # Given a closed-won deal Salesforce sent with broken legal entities: verified, unmappable, quarantined
    deal = Deal("HttpRepair")
    key = send_deal(stack, deal, Legal_Entities__c="[{broken")
    source, _, event_id = key.partition("#")
    # The operator finds it with its reason, and its raw body as received
    listed = api("GET", "/quarantine", source="salesforce", limit=100).json()["items"]
    [item] = [q for q in listed if q["key"] == key]
    assert "Legal_Entities__c" in item["reason"]
    shown = api("GET", f"/quarantine/{source}/{event_id}").json()
    assert shown["status"] == "quarantined" and "[{broken" in shown["raw_body"]
    code, out, _ = cli("quarantine", key)
    assert code == 0 and "[{broken" in out and "Legal_Entities__c" in out
    # Re-normalizing without a mapping fix changes nothing; a viewer may not replay
    assert api("POST", f"/quarantine/{source}/{event_id}/renormalize", body={}).status_code == 422
    corrected = {"event": corrected_contract(deal).model_dump(mode="json"), "note": "entities re-keyed from the PDF"}
    assert api("POST", f"/quarantine/{source}/{event_id}/replay", "viewer", corrected).status_code == 403
    # When the operator replays the corrected contract, and replays it again
    first = api("POST", f"/quarantine/{source}/{event_id}/replay", body=corrected)
    assert first.status_code == 200, first.text
    again = api("POST", f"/quarantine/{source}/{event_id}/replay", body=corrected)
    assert again.status_code == 409 and again.json()["error"] == "Conflict"
    code, _, err = cli("replay", key)
    assert code == 1 and "Conflict" in err and len(err.strip().splitlines()) == 1
    # Then the deal is activated once, one record per business object in each vendor
    assert activation(stack, deal)["status"] == "SUCCEEDED"
    assert end_state(stack, deal) == {"subscriptions": 2, "sales_orders": 2, "erp_customers": 2}
    assert len(executions_of(stack, deal)) == 1
    # And the audit trail and the deal's timeline say who replayed it, with the note
    run = api("GET", f"/runs/{first.json()['correlation_id']}").json()
    [entry] = [a for a in run["audit"] if a["action"] == "quarantine.replay"]
    assert entry["actor"] == OPERATOR and entry["note"] == "entities re-keyed from the PDF"
    assert entry["before"]["status"] == "quarantined" and entry["after"]["status"] == "accepted"
    story = api("GET", f"/timeline/deal/{deal.opportunity_id}").json()
    assert any(e["kind"] == "operator_action" and e["summary"].startswith(f"{OPERATOR}: quarantine.replay")
               for e in story["entries"])
    code, out, _ = cli("timeline", "deal", deal.opportunity_id)
    assert code == 0 and "quarantine.replay" in out and "execution succeeded" in out


def test_a_dead_lettered_erp_posting_is_redriven_once_over_the_api(stack, api, cli):
    # Given an activated customer whose invoice arrives while NetSuite is down: the poster gives up (DLQ)
    deal = Deal("HttpRedrive")
    send_deal(stack, deal)
    assert activation(stack, deal)["status"] == "SUCCEEDED"
    customer = next(c["id"] for c in records(stack, "stripe", "customer")
                    if str((c.get("metadata") or {}).get("erphub_key", "")) == f"{deal.account_id}:LE-US")
    invoice_id = f"in_{uuid.uuid4().hex[:16]}"
    stack.sandbox.faults.inject("netsuite", None, kind="503", times=100_000)
    try:
        assert webhooks.post(stack.endpoints["gateway"], "stripe", stripe_invoice(customer, invoice_id))[0] == 202
        dlq = stack.physical("ErpPostingDLQ").rsplit("/", 1)[-1]

        def dead_lettered():
            found = api("GET", f"/dlqs/{dlq}/messages").json()["messages"]
            return next((m for m in found if invoice_id in m["body"] and m["exception_id"]), None)

        letter = stack.wait_until(dead_lettered, timeout=90, interval=0.5)
    finally:
        stack.sandbox.faults.clear()
    # The operator sees the DLQ's depth and age, and why the message failed
    [queue] = [q for q in api("GET", "/dlqs").json() if q["name"] == dlq]
    assert queue["depth"] >= 1 and queue["oldest_age_seconds"] is not None and queue["fifo"]
    assert letter["reason"]["consumer"] == "erp_posting" and letter["reason"]["receive_count"] == 4
    code, out, _ = cli("dlq", dlq)
    assert code == 0 and letter["message_id"] in out and letter["reason"]["error_type"] in out
    # When a viewer tries to redrive it (refused) and the operator redrives that one message
    assert api("POST", f"/dlqs/{dlq}/redrive", "viewer", {"message_id": letter["message_id"]}).status_code == 403
    done = api("POST", f"/dlqs/{dlq}/redrive", body={"message_id": letter["message_id"], "note": "NetSuite is back"})
    assert done.status_code == 200 and done.json()["moved"] == 1
    # Then NetSuite holds the invoice once and the exception is resolved by the redrive
    posted = stack.wait_until(lambda: [i for i in stack.sandbox.records("netsuite", "invoice")
                                       if invoice_id in json.dumps(i)], timeout=30, interval=0.2)
    assert len(posted) == 1
    exception = api("GET", f"/exceptions/{letter['exception_id']}").json()
    assert exception["status"] == "resolved" and exception["resolution"] == f"redriven by {OPERATOR}"
    # And the DLQ's audit trail records who redrove what, with the depth before and after
    [entry] = [a for a in api("GET", f"/runs/dlq:{dlq}").json()["audit"] if a["action"] == "dlq.redrive_one"]
    assert entry["actor"] == OPERATOR and entry["note"] == "NetSuite is back"
    assert entry["before"]["depth"] >= 1 and entry["after"]["depth"] == entry["before"]["depth"] - 1


def test_purge_needs_the_queue_name_and_is_audited(stack, api, cli):
    dlq = stack.physical("UsageDLQ").rsplit("/", 1)[-1]
    # A purge without the queue's name is refused (CLI: one line, exit 1)
    refused = api("POST", f"/dlqs/{dlq}/purge", body={"confirm": "yes"})
    assert refused.status_code == 422 and dlq in refused.json()["message"]
    code, _, err = cli("purge", dlq, "--confirm", "yes")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert api("POST", "/dlqs/no-such-dlq/purge", body={"confirm": "no-such-dlq"}).status_code == 404
    # The CLI lists the DLQs; redriving an empty one moves nothing (and is still recorded)
    code, out, _ = cli("dlq")
    assert code == 0 and dlq in out and "dead-letter queues" in out
    code, out, _ = cli("redrive", dlq)
    assert code == 0 and f"{dlq}: 0 messages redriven to {stack.physical('UsageQueue').rsplit('/', 1)[-1]}" in out
    # With the name, the DLQ is emptied and the purge recorded
    code, out, _ = cli("purge", dlq, "--confirm", dlq, "--note", "test data")
    assert code == 0 and "messages purged" in out
    trail = api("GET", f"/runs/dlq:{dlq}").json()["audit"]
    assert [a["action"] for a in trail] == ["dlq.redrive", "dlq.purge"] and trail[1]["note"] == "test data"


def test_archive_replay_and_sweep_over_the_api_are_deduped_and_audited(stack, api, cli):
    # Given an activated deal (its closed-won event is in the bus archive)
    deal = Deal("HttpReplay")
    send_deal(stack, deal)
    assert activation(stack, deal)["status"] == "SUCCEEDED"
    before = end_state(stack, deal)
    occurred = datetime(2024, 5, 31, 16, 42, 7, tzinfo=UTC)
    # When the operator replays closed-won deals around its time, from the CLI
    code, out, err = cli("--json", "archive-replay", "crm.opportunity.closed_won", "--from",
                         (occurred - timedelta(minutes=1)).isoformat(), "--to",
                         (occurred + timedelta(minutes=1)).isoformat(), "--note", "lost deliveries")
    assert code == 0, err
    # (the in-process handlers' log lines share stdout: the CLI's indented JSON is the block starting "{\n")
    started = json.JSONDecoder().raw_decode(out[out.index("{\n"):])[0]
    assert started["actor"] == OPERATOR and started["rules"]
    stack.wait_until(lambda: api("GET", f"/archive-replays/{started['replay_name']}").json()["state"] == "COMPLETED",
                     timeout=30, interval=0.3)
    stack.wait_until(lambda: stack.queue_depth("ActivationQueue") == 0, timeout=30, interval=0.2)
    # Then the consumers dedupe it: one run, no new vendor record; and the replay is in the audit trail
    assert len(executions_of(stack, deal)) == 1 and end_state(stack, deal) == before
    trail = api("GET", "/runs/archive:crm.opportunity.closed_won").json()["audit"]
    assert trail[-1]["action"] == "archive.replay" and trail[-1]["note"] == "lost deliveries"
    # A backward window is refused; sweeping the outbox now publishes what is pending and is audited
    backward = {"event_type": "crm.opportunity.closed_won", "start": occurred.isoformat(),
                "end": (occurred - timedelta(days=1)).isoformat()}
    assert api("POST", "/archive-replays", body=backward).status_code == 422
    code, out, _ = cli("sweep", "--note", "after the bus outage")
    # (the in-process handlers' log lines may precede the CLI's summary line on stdout, or not)
    assert code == 0 and any(line.startswith("outbox swept: ") for line in out.splitlines())
    assert api("GET", "/runs/outbox").json()["audit"][-1]["action"] == "outbox.sweep"


def test_a_dead_letter_exception_is_redriven_by_its_own_action(stack, api):
    # Given an invoice dead-lettered while NetSuite was down: a dead_letter exception offering redrive
    deal = Deal("HttpExcRedrive")
    send_deal(stack, deal)
    assert activation(stack, deal)["status"] == "SUCCEEDED"
    customer = next(c["id"] for c in records(stack, "stripe", "customer")
                    if str((c.get("metadata") or {}).get("erphub_key", "")) == f"{deal.account_id}:LE-US")
    invoice_id = f"in_{uuid.uuid4().hex[:16]}"
    stack.sandbox.faults.inject("netsuite", None, kind="503", times=100_000)
    try:
        assert webhooks.post(stack.endpoints["gateway"], "stripe", stripe_invoice(customer, invoice_id))[0] == 202
        dlq = stack.physical("ErpPostingDLQ").rsplit("/", 1)[-1]
        letter = stack.wait_until(lambda: next((m for m in api("GET", f"/dlqs/{dlq}/messages").json()["messages"]
                                                if invoice_id in m["body"] and m["exception_id"]), None),
                                  timeout=90, interval=0.5)
    finally:
        stack.sandbox.faults.clear()
    exception_id = letter["exception_id"]
    assert api("GET", f"/exceptions/{exception_id}").json()["actions"] == ["redrive", "abandon"]
    # When the operator takes the exception's redrive action (a viewer may not)
    assert api("POST", f"/exceptions/{exception_id}/redrive", "viewer", {}).status_code == 403
    done = api("POST", f"/exceptions/{exception_id}/redrive", body={"note": "ERP back"})
    assert done.status_code == 200 and done.json()["moved"] == 1, done.text
    # Then that message is posted once, the exception is resolved with the action in its audit trail
    posted = stack.wait_until(lambda: [i for i in stack.sandbox.records("netsuite", "invoice")
                                       if invoice_id in json.dumps(i)], timeout=30, interval=0.2)
    assert len(posted) == 1
    detail = api("GET", f"/exceptions/{exception_id}").json()
    assert detail["status"] == "resolved"
    [entry] = [a for a in detail["audit"] if a["action"] == "redrive"]
    assert entry["actor"] == OPERATOR and entry["note"] == "ERP back" and entry["after"]["status"] != "open"
    # and a second redrive of it is refused
    assert api("POST", f"/exceptions/{exception_id}/redrive", body={}).status_code == 409


def test_every_call_the_operator_function_made_is_one_its_template_role_allows(stack, api):
    # Given the recovery routes driven above (run after them: pytest keeps the module's order), and a timeline
    assert api("GET", "/timeline/customer/no-such-customer").status_code == 200
    assert api("GET", "/dlqs").status_code == 200
    # Then IAM, as CloudFormation will create the role from template.yaml, allows every AWS call it made
    from tools import iam_audit

    made = {"OpsApiFunction": stack.aws_calls["OpsApiFunction"]}
    assert {c.operation for c in made["OpsApiFunction"]} >= {"ReceiveMessage", "SendMessage", "PurgeQueue",
                                                             "StartReplay", "GetExecutionHistory", "UpdateItem"}
    findings = iam_audit.audit(stack, made)
    assert findings == [], "\n".join(map(str, findings))
