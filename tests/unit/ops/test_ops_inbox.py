"""The exceptions inbox and operator actions on moto's DynamoDB: owners and SLA by kind, filters, claims that
make an action happen once, the audit trail, data fixes as diffs, retries as new runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from erphub.errors import Conflict, Transient, ValidationFailed
from erphub.operations import audit, fixes, inbox, retries
from erphub.store.exceptions import ExceptionStore
from erphub.store.workflow_state import WorkflowStore
from erphub.workflows import operator

EVENT = {"source": "salesforce", "business_key": "contract:salesforce:006A", "data": {
    "kind": "contract", "contract_id": "006A", "account": {"account_id": "001A", "legal_entities": [
        {"entity_id": "LE-US", "tax_id": "94-1"}, {"entity_id": "LE-DE", "tax_id": None}]}, "amount": 10}}
# the envelope a run carries (outcome.failed reads its version: the run's status record is per workflow + version)
RUN_EVENT = {"event_id": "e-1", "type": "crm.opportunity.closed_won", "source": "salesforce", "source_event_id": "s-1",
             "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "contract:salesforce:006A",
             "business_key": "contract:salesforce:006A", "version": "1", "data": {
                 "kind": "contract", "contract_id": "006A", "version": 1,
                 "account": {"account_id": "001A", "name": "Acme"}}}


def open_one(kind: str = "data_quality", correlation_id: str = "contract:salesforce:006A", **kw) -> str:
    return WorkflowStore().open_exception(correlation_id, "activation", kind, f"{kind} reason",
                                          detail={"error": "", "event": EVENT}, **kw)


def test_owner_sla_and_actions_come_from_the_kind(tables):
    approval, failed, unknown = open_one("approval"), open_one("renewal_failed"), open_one("something_new")
    views = {v.exception_id: v for v in inbox.listing(inbox.Filters())}
    assert (views[approval].owner, views[approval].actions) == ("deal-desk", ["approve", "reject", "abandon"])
    assert (views[failed].owner, views[failed].actions) == ("integration-ops", ["retry", "abandon"])
    assert (views[unknown].owner, views[unknown].actions) == ("integration-ops", ["abandon"])
    assert views[approval].business_ids == {"business_key": "contract:salesforce:006A", "contract": "006A",
                                            "account": "001A"}


def test_filters_by_kind_status_owner_age_and_business_id(tables):
    quality, approval = open_one("data_quality"), open_one("approval", correlation_id="contract:salesforce:006B")
    ExceptionStore().assign(approval, "emea-deal-desk")
    ids = lambda **f: [v.exception_id for v in inbox.listing(inbox.Filters(**f))]  # noqa: E731
    assert ids(kind="approval") == [approval] and ids(owner="revops") == [quality]
    assert ids(owner="emea-deal-desk") == [approval] and ids(business_id="001A") == [quality, approval]
    assert ids(business_id="contract:salesforce:006B") == [approval] and ids(status="resolved") == []
    assert ids(min_age_seconds=3600) == []


def test_an_exception_past_its_sla_is_overdue():
    opened = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    view = inbox.summary({"exception_id": "e", "kind": "erp_outage", "status": "open", "correlation_id": "c",
                          "opened_at": opened})
    assert view.overdue and view.sla_seconds == 14400 and view.age_seconds >= 5 * 3600


def test_concurrent_actions_claim_once(tables):
    exception_id = open_one("approval")
    wins, losses = [], []

    def claim() -> None:
        try:
            ExceptionStore().claim(exception_id, "approve", "ann")
            wins.append(1)
        except Conflict:
            losses.append(1)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(wins), len(losses)) == (1, 7)


def test_a_failed_action_releases_the_exception_and_leaves_no_audit(tables):
    exception_id = open_one("erp_outage", task_token="token-1")

    def perform(exception):
        raise Transient("stepfunctions unavailable")

    with pytest.raises(Transient):
        operator.act(exception_id, "resume", "ann", "", perform)
    assert ExceptionStore().get(exception_id)["status"] == "open"
    assert audit.of_run("contract:salesforce:006A") == []


def test_an_action_the_kind_does_not_take_is_refused_before_anything(tables):
    exception_id = open_one("data_quality", task_token="token-1")
    with pytest.raises(ValidationFailed, match="takes fix, reread, abandon"):
        operator.decide(exception_id, True, by="ann")
    assert ExceptionStore().get(exception_id)["status"] == "open"


def test_abandoning_a_failed_run_resolves_it_once_and_audits_who_why_before_after(tables):
    exception_id = open_one("activation_failed")
    done = operator.abandon(exception_id, "customer withdrew", by="ann@example.com")
    with pytest.raises(Conflict, match="resolved"):
        operator.abandon(exception_id, "again", by="bob@example.com")
    [entry] = audit.of_run("contract:salesforce:006A")
    assert (entry["actor"], entry["action"], entry["note"]) == ("ann@example.com", "abandon", "customer withdrew")
    assert entry["before"]["status"] == "open" and entry["after"]["status"] == "resolved"
    assert entry["audit_id"] == done["audit_id"] and entry["exception_id"] == exception_id


def test_a_fix_is_a_diff_with_the_master_of_each_field():
    contract = EVENT["data"]
    fixed = fixes.merge(contract, {"account": {"legal_entities": [
        {"entity_id": "LE-US", "tax_id": "94-1"}, {"entity_id": "LE-DE", "tax_id": "DE1"}]}, "amount": 12})
    assert fixes.diff(contract, fixed) == [
        {"field": "account.legal_entities[1].tax_id", "before": None, "after": "DE1", "master": "crm"},
        {"field": "amount", "before": 10, "after": 12, "master": "crm"}]
    assert fixes.master("account.health_score") == "success"


def test_a_retry_is_a_new_run_id_each_time():
    assert retries.next_run_id("contract:salesforce:006A") == ("contract:salesforce:006A:retry1", 1)
    assert retries.next_run_id("contract:salesforce:006A:retry1") == ("contract:salesforce:006A:retry2", 2)


def test_a_run_that_stops_waiting_expires_its_open_waits_and_escalates_a_timed_out_one(tables, monkeypatch):
    from erphub.workflows.actions import outcome
    from erphub.workflows.run import Run

    monkeypatch.setattr(outcome, "_emit", lambda run, status, **fields: {"status": status, **fields})
    waiting = open_one("approval", task_token="token-1")
    failed_before = open_one("activation_failed", correlation_id="other-run")
    run = Run.model_validate({"action": "outcome.failed", "workflow": "activation", "state": {
        "correlation_id": "contract:salesforce:006A", "event": RUN_EVENT,
        "error": {"Error": "States.Timeout", "Cause": "no decision"}}})
    outcome.failed(run)
    expired = ExceptionStore().get(waiting)
    assert expired["status"] == "resolved" and expired["resolution"].startswith("expired: the run stopped waiting")
    assert expired["overdue_at"] and expired["resolved_by"] == "hub"
    assert ExceptionStore().get(failed_before)["status"] == "open"
    still_open = inbox.listing(inbox.Filters(status="open"))
    assert [v.kind for v in still_open if v.correlation_id == "contract:salesforce:006A"] == ["activation_failed"]
