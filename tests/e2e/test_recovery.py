"""An operator's recovery day on the local stack of the real template, with the vendor sandbox, checked where it
counts (the vendors' records): a quarantined deal repaired and replayed once, a dead-lettered ERP posting redriven
and posted once, an archive replay deduped by the consumers, and a deal's timeline after its activation."""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests import webhooks as inbox_waits
from tests.e2e.workflows.deals import Deal
from tests.operator_env import operator_environment

from local import webhooks
from local.stack import HubStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
OVERRIDES = {"QueueRetryDelaySeconds": "1"}
APPROVAL = {"threshold": "200000", "timeout_seconds": 4, "heartbeat_seconds": 4}
ACTOR = "ana@example.com"


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", parameter_overrides=OVERRIDES) as running:
        committed = json.loads((ROOT / "config" / "business.json").read_text())
        running.client("ssm").put_parameter(Name=running.physical("BusinessConfigParameter"), Type="String",
                                            Value=json.dumps({**committed, "approval": APPROVAL}), Overwrite=True)
        yield running


@pytest.fixture
def ops(stack, hub_settings):
    """The operations layer with the operator function's environment, pointed at this stack."""
    hub_settings(**operator_environment(stack))
    stack.sandbox.faults.clear()
    yield stack
    stack.sandbox.faults.clear()


def send_deal(stack, deal: Deal, **fields) -> str:
    """POST the deal's outbound message as Salesforce does; returns its inbox key."""
    stack.sandbox.seed("salesforce", "Account", {"Id": deal.account_id, "Name": deal.name, "OwnerId": "005OWNER"})
    body = deal.outbound_message(**fields)
    status, answer = webhooks.post(stack.endpoints["gateway"], "salesforce", body)
    assert status == 200 and "<Ack>true</Ack>" in answer
    key = "salesforce#" + re.search(rb"<Id>(04l[^<]*)</Id>", body).group(1).decode()
    inbox_waits.mapped_key(stack, key)  # the publisher maps it after the Ack: published, or quarantined
    return key


def activation(stack, deal: Deal, timeout: float = 60) -> dict:
    sfn = stack.client("stepfunctions")
    arn = stack.physical("CustomerActivationStateMachine").replace(":stateMachine:", ":execution:")

    def stopped() -> dict | None:
        try:
            found = sfn.describe_execution(executionArn=f"{arn}:{deal.opportunity_id}-v1")
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return found if found["status"] != "RUNNING" else None

    return stack.wait_until(stopped, timeout=timeout, interval=0.2)


def executions_of(stack, deal: Deal) -> list[dict]:
    machine = stack.physical("CustomerActivationStateMachine")
    found = stack.client("stepfunctions").list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
    return [e for e in found if e["name"].startswith(deal.opportunity_id)]


def records(stack, vendor: str, kind: str, **match) -> list[dict]:
    return [r for r in stack.sandbox.records(vendor, kind)
            if all(_get(r, path) == value for path, value in match.items())]


def _get(record: dict, path: str):
    for part in path.split("__"):
        record = (record or {}).get(part)
    return record


def end_state(stack, deal: Deal) -> dict[str, int]:
    """How many records each vendor holds for the deal (the activation makes two of each: one per entity)."""
    return {"subscriptions": len(records(stack, "stripe", "subscription", metadata__contract_id=deal.opportunity_id)),
            "sales_orders": len(records(stack, "netsuite", "salesOrder", otherRefNum=deal.opportunity_id)),
            "erp_customers": len([c for c in stack.sandbox.records("netsuite", "customer")
                                  if c["externalId"].startswith(f"{deal.account_id}:")])}


def corrected_contract(deal: Deal):
    """The canonical contract of the deal as a mapped outbound message gives it: what the operator supplies."""
    from erphub.operations.quarantine import CorrectedEvent
    from erphub.sources.inbound import Headers, InboundRequest
    from erphub.sources.salesforce import source

    request = InboundRequest(method="POST", url="", headers=Headers({}), body=deal.outbound_message(),
                             received_at=datetime.now(UTC))
    [event] = source.parse(request)
    envelope = source.normalize(event)
    return CorrectedEvent(type=str(envelope.type), business_key=envelope.business_key, version=envelope.version,
                          occurred_at=envelope.occurred_at, data=json.loads(envelope.data.model_dump_json()))


def test_a_quarantined_deal_repaired_and_replayed_twice_at_once_is_activated_once(ops):
    from erphub.errors import Conflict
    from erphub.operations import quarantine

    # Given a closed-won deal whose legal entities Salesforce sent broken: verified, unmappable, quarantined
    deal = Deal("Repair")
    key = send_deal(ops, deal, Legal_Entities__c="[{broken")
    listed = quarantine.show(key)
    assert listed.status == "quarantined" and "Legal_Entities__c" in listed.reason
    assert executions_of(ops, deal) == []
    # When two operators supply the corrected contract and replay it at the same moment
    corrected, barrier, outcomes = corrected_contract(deal), threading.Barrier(2), []

    def replay(actor: str) -> None:
        barrier.wait()
        try:
            outcomes.append(quarantine.replay_corrected(key, corrected, actor=actor))
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=replay, args=(a,)) for a in (ACTOR, "ben@example.com")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one replay went through, the deal is activated, once, in every system
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert activation(ops, deal)["status"] == "SUCCEEDED"
    assert end_state(ops, deal) == {"subscriptions": 2, "sales_orders": 2, "erp_customers": 2}
    assert len(executions_of(ops, deal)) == 1 and quarantine.show(key).status == "published"
    # And the deal's timeline tells who replayed it and how, before its activation ran
    from erphub.operations import timeline

    story = timeline.timeline("deal", deal.opportunity_id).entries
    [replayed] = [e for e in story if e.kind == "operator_action"]
    assert "corrected and replayed by" in replayed.summary and "Legal_Entities__c" in replayed.detail["reason"]
    assert replayed.at < next(e.at for e in story if e.kind == "execution" and "started" in e.summary)


def test_a_dead_lettered_erp_posting_redriven_after_the_outage_posts_once(ops):
    from erphub.operations import dlqs

    # Given an activated customer, and the ERP down while its invoice arrives
    deal = Deal("Redrive")
    send_deal(ops, deal)
    assert activation(ops, deal)["status"] == "SUCCEEDED"
    customer = next(c["id"] for c in records(ops, "stripe", "customer")
                    if str((c.get("metadata") or {}).get("erphub_key", "")) == f"{deal.account_id}:LE-US")
    invoice_id = f"in_{uuid.uuid4().hex[:16]}"
    ops.sandbox.faults.inject("netsuite", None, kind="503", times=100_000)
    assert webhooks.post(ops.endpoints["gateway"], "stripe", stripe_invoice(customer, invoice_id))[0] == 202
    # When the poster has given up (4 receives), the operator finds it in the ERP posting DLQ with the reason
    dlq = ops.physical("ErpPostingDLQ").rsplit("/", 1)[-1]
    letter = ops.wait_until(lambda: next((m for m in dlqs.messages(dlq).messages
                                          if invoice_id in m.body and m.exception_id), None), timeout=90, interval=0.5)
    assert letter.reason.recorded_by == "consumer" and letter.reason.receive_count == 4
    assert letter.reason.error_type in ("Transient", "RateLimited") and letter.reason.consumer == "erp_posting"
    # and redrives it once the ERP is back
    ops.sandbox.faults.clear()
    assert dlqs.redrive(dlq, actor=ACTOR, message_id=letter.message_id).moved == 1
    # Then the ERP holds the invoice once, the DLQ no longer has it, and its exception is resolved
    posted = ops.wait_until(lambda: [i for i in ops.sandbox.records("netsuite", "invoice")
                                     if invoice_id in json.dumps(i)], timeout=30, interval=0.2)
    assert len(posted) == 1
    assert all(m.message_id != letter.message_id for m in dlqs.messages(dlq).messages)
    from erphub.store.workflow_state import WorkflowStore

    assert WorkflowStore().exception(letter.exception_id)["resolution"] == f"redriven by {ACTOR}"


def test_an_archive_replay_of_closed_won_deals_is_deduped_by_the_consumers(ops):
    from erphub.operations import archive

    # Given an activated deal (its closed-won event is in the bus archive)
    deal = Deal("Replay")
    send_deal(ops, deal)
    assert activation(ops, deal)["status"] == "SUCCEEDED"
    before = end_state(ops, deal)
    # When an operator replays closed-won deals around its time (Salesforce's LastModifiedDate)
    occurred = datetime(2024, 5, 31, 16, 42, 7, tzinfo=UTC)
    ops.pause_consumers("ActivationQueue")
    try:
        replay = archive.replay("crm.opportunity.closed_won", occurred - timedelta(minutes=1),
                                occurred + timedelta(minutes=1), actor=ACTOR)
        # Then the event comes through the rules to the activation queue again
        ops.wait_until(lambda: ops.queue_depth("ActivationQueue") >= 1, timeout=10)
    finally:
        ops.pause_consumers("ActivationQueue", paused=False)
    assert archive.replay_status(replay.replay_name).state == "COMPLETED"
    ops.wait_until(lambda: ops.queue_depth("ActivationQueue") == 0, timeout=30, interval=0.2)
    # And the workflow starter finds the execution already there: still one run, no new vendor record
    assert len(executions_of(ops, deal)) == 1
    assert end_state(ops, deal) == before == {"subscriptions": 2, "sales_orders": 2, "erp_customers": 2}
    assert ops.queue_depth("ActivationDLQ") == 0


def test_a_deals_timeline_after_its_activation_shows_what_was_created_where(ops):
    from erphub.operations import timeline

    deal = Deal("Timeline")
    send_deal(ops, deal)
    assert activation(ops, deal)["status"] == "SUCCEEDED"
    found = timeline.timeline("deal", deal.opportunity_id)
    kinds = [e.kind for e in found.entries]
    assert kinds[0] == "webhook" and "event" in kinds
    assert any(e.kind == "execution" and "execution succeeded" in e.summary for e in found.entries)
    # the records the run created carry the vendors' own ids
    created = {(e.system, e.detail["record_id"]) for e in found.entries if e.kind == "record"}
    subscriptions = records(ops, "stripe", "subscription", metadata__contract_id=deal.opportunity_id)
    orders = records(ops, "netsuite", "salesOrder", otherRefNum=deal.opportunity_id)
    assert {("stripe", s["id"]) for s in subscriptions} <= created
    # (NetSuite orders are keyed by the external id the hub gave them, which the run records)
    assert {o["externalId"] for o in orders} <= {record_id for system, record_id in created if system == "netsuite"}
    assert len(orders) == 2 and len(subscriptions) == 2
    assert [e.at for e in found.entries] == sorted(e.at for e in found.entries)
    assert not found.truncated and found.unavailable == []


def stripe_invoice(customer: str, invoice_id: str) -> bytes:
    text = (ROOT / "events" / "stripe" / "invoice.finalized.json").read_text()
    body = json.loads(text.replace("cus_Q8mZr4TnVb2XyA", customer).replace("in_1PLx3aKZ8gJ0aBcDinv0001", invoice_id))
    body["id"] = f"evt_{uuid.uuid4().hex[:20]}"
    return json.dumps(body).encode()
