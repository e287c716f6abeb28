"""Workflow progress, the ledger compensation reads, contract versions and operator exceptions."""

from erphub.store.workflow_state import WorkflowStore


def test_status_keeps_the_latest_step_and_the_start(tables):
    store = WorkflowStore()
    store.record_status("c1", "activation", "running", version="1", step="identity.resolve")
    store.record_status("c1", "activation", "completed", version="1", step="outcome.completed")
    status = store.status("c1")
    assert (status["status"], status["step"], status["workflow"]) == ("completed", "outcome.completed", "activation")
    assert status["started_at"] <= status["updated_at"] and status["state"] == "active"


def test_each_run_keeps_its_own_status_and_a_late_stale_amendment_hides_no_live_run(tables):
    # Given an activation (v1) and an amendment (v2) completed, then a stale amendment (v1 again) was refused
    store = WorkflowStore()
    store.record_status("c1", "activation", "completed", version="1", step="outcome.completed")
    store.record_status("c1", "amendment", "completed", version="2", step="outcome.completed")
    store.record_status("c1", "amendment", "refused", version="1", reason="stale amendment: version 1 is not newer")
    # Then every run reads as it ended, and the contract reads amended by its live amendment
    assert store.run_status("c1", "activation", "1")["status"] == "completed"
    assert store.run_status("c1", "amendment", "1")["reason"].startswith("stale amendment")
    status = store.status("c1")
    assert (status["state"], status["workflow"], status["version"], status["status"]) == (
        "amended", "amendment", "2", "completed")
    assert [(r["workflow"], r["version"], r["status"]) for r in status["runs"]] == [
        ("activation", "1", "completed"), ("amendment", "2", "completed"), ("amendment", "1", "refused")]


def test_a_contract_with_no_run_has_no_status(tables):
    assert WorkflowStore().status("nobody") is None


def test_contract_versions_only_move_forward(tables):
    store = WorkflowStore()
    assert store.applied_version("k1") == 0
    assert store.mark_applied("k1", 2, "c1")
    assert not store.mark_applied("k1", 2, "c2")
    assert not store.mark_applied("k1", 1, "c3")
    assert store.applied_version("k1") == 2


def test_the_ledger_lists_created_records_until_compensated(tables):
    store = WorkflowStore()
    store.record_created("c1", "stripe", "subscription", "le1", "sub_1")
    store.mark_compensated("c1", "stripe", "subscription", "le1", "cancelled")
    [record] = store.created("c1", "subscription")
    assert (record["record_id"], record["state"]) == ("sub_1", "cancelled")


def test_an_exception_keeps_its_task_token_until_closed(tables):
    store = WorkflowStore()
    exception_id = store.open_exception("c1", "activation", "data_quality", "missing tax id", task_token="tok")
    assert [e["exception_id"] for e in store.exceptions("c1")] == [exception_id]
    assert store.exception(exception_id)["task_token"] == "tok"
    store.close_exception(exception_id, "fixed")
    assert store.exceptions("c1") == []
    assert store.exceptions("c1", only_open=False)[0]["resolution"] == "fixed"


def test_a_retry_keeps_its_own_status_beside_the_contract_and_its_success_makes_the_contract_active(tables):
    # Given an activation failed (compensated) and an operator's retry (a new run, <cid>:retry1) completed
    store = WorkflowStore()
    store.record_status("c1", "activation", "failed", version="1", step="success.onboard")
    store.record_status("c1:retry1", "activation", "completed", version="1", step="outcome.completed")
    # Then both runs keep their status, and the contract (read by either id) is active
    assert store.run_status("c1", "activation", "1")["status"] == "failed"
    assert store.run_status("c1:retry1", "activation", "1")["status"] == "completed"
    for correlation_id in ("c1", "c1:retry1"):
        view = store.status(correlation_id)
        assert (view["state"], view["correlation_id"], len(view["runs"])) == ("active", "c1", 2)


def test_a_status_is_one_write_that_keeps_the_start_the_step_and_what_others_added(tables):
    # Given a run whose status item another writer added to (the SLA sweep, an operator)
    store = WorkflowStore()
    store.record_status("c1", "activation", "running", version="1", step="billing.activate")
    tables.update_item(TableName="workflows", Key={"pk": {"S": "RUN#c1"}, "sk": {"S": "STATUS#activation#1"}},
                       UpdateExpression="SET sla_alerted = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    first = store.run_status("c1", "activation", "1")
    store.record_status("c1", "activation", "waiting", version="1", reason="erp_outage: down",
                        detail={"exception_id": "e1"})
    # When the next status of the run comes without a step or a reason: one UpdateItem, no read
    calls: list[str] = []
    tables.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    store.record_status("c1", "activation", "running", version="1")
    assert calls == ["UpdateItem"]
    # Then the run keeps its start, its step and the other writer's attribute; the old reason and detail are gone
    now = store.run_status("c1", "activation", "1")
    assert (now["started_at"], now["step"], now["sla_alerted"]) == (first["started_at"], "billing.activate", True)
    assert now["status"] == "running" and "reason" not in now and "detail" not in now
    assert now["updated_at"] >= first["updated_at"] and now["version"] == "1" and now["correlation_id"] == "c1"


def test_a_new_run_is_written_whole_and_a_first_status_without_a_step_has_an_empty_step(tables):
    # Given no run yet: its first status is one whole item (so the stream's INSERT carries it whole)
    calls: list[str] = []
    tables.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    WorkflowStore().record_status("c2", "cancellation", "refused", version=None, reason="no contract")
    assert calls == ["UpdateItem", "PutItem"]  # the update found no run (its condition failed), the put created it
    status = WorkflowStore().run_status("c2", "cancellation", None)
    assert (status["step"], status["version"], status["reason"]) == ("", "0", "no contract")
    assert status["started_at"] == status["updated_at"]


def test_a_run_created_between_the_update_and_the_put_is_updated(tables, monkeypatch):
    # Given a run another writer creates just after this writer's update found none
    store, update = WorkflowStore(), WorkflowStore._update_existing
    rounds: list[int] = []

    def racing_update(self, pk, sk, changes):
        rounds.append(len(rounds))
        if len(rounds) > 1:
            return update(self, pk, sk, changes)
        monkeypatch.setattr(WorkflowStore, "_update_existing", update)  # the other writer, unhindered
        WorkflowStore().record_status("c3", "activation", "running", version="1", step="contract.screen")
        monkeypatch.setattr(WorkflowStore, "_update_existing", racing_update)
        return False  # this writer's update came first and found no run

    monkeypatch.setattr(WorkflowStore, "_update_existing", racing_update)
    store.record_status("c3", "activation", "waiting", version="1", reason="approval: over threshold")
    assert rounds == [0, 1]
    # Then the put refused to overwrite it and the status was applied to what the other writer wrote
    status = store.run_status("c3", "activation", "1")
    assert (status["status"], status["step"], status["reason"]) == ("waiting", "contract.screen",
                                                                   "approval: over threshold")
