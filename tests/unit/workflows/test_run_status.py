"""The contract's view derived from its runs' status records (store/run_status.py): pure, no table."""

from erphub.store.run_status import contract_view, run_key


def run(workflow, version, status, at):
    return {"workflow": workflow, "version": version, "status": status, "started_at": at, "updated_at": at}


def test_a_refused_run_never_hides_a_live_one():
    runs = [run("activation", "1", "completed", "t1"), run("amendment", "1", "refused", "t2")]
    view = contract_view("c", runs)
    assert (view["state"], view["workflow"], view["status"]) == ("active", "activation", "completed")


def test_the_state_in_force_comes_from_the_newest_completed_run_while_a_newer_one_is_under_way():
    runs = [run("amendment", "2", "waiting", "t3"), run("activation", "1", "completed", "t1")]
    view = contract_view("c", runs)
    assert (view["state"], view["workflow"], view["status"]) == ("active", "amendment", "waiting")
    cancelled = contract_view("c", [*runs, run("cancellation", "3", "completed", "t4")])
    assert cancelled["state"] == "cancelled"


def test_before_any_completed_run_the_contract_is_pending_and_refused_only_if_every_run_was():
    assert contract_view("c", [run("activation", "1", "running", "t1")])["state"] == "pending"
    refused = contract_view("c", [run("amendment", "1", "refused", "t1")])
    assert (refused["state"], refused["status"]) == ("refused", "refused")
    assert contract_view("c", []) is None


def test_each_workflow_and_version_is_its_own_record():
    assert len({run_key("activation", "1"), run_key("amendment", "1"), run_key("amendment", "2")}) == 3
    assert run_key("activation", None) == run_key("activation", "0")
