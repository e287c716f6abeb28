"""A busy ERP is not a broken ERP: the workflows' ERP steps wait in the ERP work queue, whose consumer (the ERP
adapter) runs at most the budget at once (MaximumConcurrency; reserved concurrency for its direct callers), so a
burst of activations drains through the budget without a throttled attempt; none is compensated and the ERP
never sees more requests in flight than the budget."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from deals import Deal, annual_deal_items
from flows import erp_customers, sales_orders, seed_crm, send_deal

from tools.asl import QUEUE_RESOURCE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BUDGET = 2
BURST = 40
# what a busy ERP must never cause: compensation, a recorded failure, or an operator's outage wait
DETOURS = {"CancelSubscriptions", "VoidSalesOrder", "RecordActivationFailure", "AwaitErpRecovery"}


@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return {"ErpConcurrency": str(BUDGET)}


def history(hub, execution_arn: str) -> list[dict]:
    events, token = [], None
    while True:
        page = hub.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                             **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def failures(hub, executions: list[dict]) -> list[tuple[str, list[str]]]:
    """What each run that did not succeed failed on: the assertion's message, so a failure explains itself."""
    return [(e["name"], [json.dumps({k: v for k, v in ev.items() if k.endswith("Details")}, default=str)[:400]
                         for ev in history(hub, e["executionArn"]) if ev["type"].endswith("Failed")])
            for e in executions if e["status"] != "SUCCEEDED"]


def test_a_burst_of_activations_over_the_erp_budget_waits_and_none_is_compensated(hub):
    # Given an ERP budget of 2 (the work queue's MaximumConcurrency and the adapter's reserved concurrency) in
    # front of a NetSuite that refuses a third request in flight and answers each request in 50 ms
    adapter = hub.stack.functions.get("ErpAdapterFunction")
    assert adapter.concurrency.limit == BUDGET
    throttled_before = adapter.concurrency.throttled
    hub.sandbox.limit_concurrency("netsuite", BUDGET)
    hub.sandbox.faults.inject("netsuite", None, kind="latency", times=10**6, seconds=0.05)
    deals = [Deal(f"Burst{i}", entities=1) for i in range(BURST)]
    us_items = [item for item in annual_deal_items() if item["legal_entity_id"] == "LE-US"]
    for deal in deals:
        seed_crm(hub, deal)
    started = time.monotonic()
    # When 40 closed-won deals (one legal entity each) arrive at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda d: send_deal(hub, d, Line_Items__c=us_items), deals))
    executions = [hub.execution("activation", d.opportunity_id, timeout=300) for d in deals]
    elapsed = time.monotonic() - started
    # Then every activation completed, none entered a compensation or a wait, and each deal is booked once
    assert [e["status"] for e in executions] == ["SUCCEEDED"] * BURST, failures(hub, executions)
    events = [ev for e in executions for ev in history(hub, e["executionArn"])]
    entered = {ev["stateEnteredEventDetails"]["name"] for ev in events if "stateEnteredEventDetails" in ev}
    assert not entered & DETOURS
    assert all(len(sales_orders(hub, d)) == 1 and len(erp_customers(hub, d)) == 1 for d in deals)
    # and the ERP never had more than the budget in flight, and refused nothing
    assert hub.sandbox.max_in_flight("netsuite") <= BUDGET and hub.sandbox.refused("netsuite") == 0
    # and the budget really was full (both slots busy at once) while no ERP attempt was throttled: the steps
    # waited in the queue, not in Retry back-offs
    assert adapter.concurrency.peak == BUDGET, "the burst never filled the ERP budget: the test proves nothing"
    throttles = [ev for ev in events if "Lambda.TooManyRequestsException" in json.dumps(
        ev.get("lambdaFunctionFailedEventDetails") or ev.get("taskFailedEventDetails") or {})]
    assert throttles == [] and adapter.concurrency.throttled == throttled_before
    queued = [ev for ev in events if ev["type"] == "TaskScheduled"
              and ev["taskScheduledEventDetails"]["resource"] == "sendMessage.waitForTaskToken"]
    assert len(queued) == BURST  # one ERP step per activation, each a message on the work queue, none retried
    print(f"\n{BURST} activations, ERP budget {BUDGET}: {elapsed:.1f} s, 0 throttled ERP calls, "
          f"ERP max in flight {hub.sandbox.max_in_flight('netsuite')}")


def test_direct_callers_share_the_budget_with_the_queue_and_the_erp_never_sees_more(hub):
    # Given the ERP budget shared by the work queue and a direct caller of the ERP adapter (as ERP posting and the
    # renewal-risk consumer call it), in front of a NetSuite that refuses a third request in flight
    from pathlib import Path

    from local.concurrency import Throttled

    hub.sandbox.limit_concurrency("netsuite", BUDGET)
    sample = json.loads((Path(__file__).resolve().parents[3] / "events" / "aws" /
                         "stepfunctions-activation-task.json").read_text())
    contract = sample["state"]["event"]["data"]  # its US entity only: a USD deal needs no billing price list
    contract["account"]["legal_entities"] = [e for e in contract["account"]["legal_entities"] if e["currency"] == "USD"]
    contract["items"] = [i for i in contract["items"] if i["legal_entity_id"] == "LE-US"]
    direct = {"action": "erp.book", "workflow": "activation", "state": sample["state"]}
    deals = [Deal(f"Shared{i}", entities=1) for i in range(10)]
    us_items = [item for item in annual_deal_items() if item["legal_entity_id"] == "LE-US"]
    for deal in deals:
        seed_crm(hub, deal)
    answered, refused = [], []

    def call_directly() -> None:
        for _ in range(15):
            try:
                answered.append(hub.stack.invoke("ErpAdapterFunction", direct))
            except Throttled:  # what erphub.adapters.invoke raises as RateLimited; its queue retries the message
                refused.append(1)
            time.sleep(0.02)

    # When activations and the direct caller use the ERP at the same time
    with ThreadPoolExecutor(max_workers=8) as pool:
        caller = pool.submit(call_directly)
        list(pool.map(lambda d: send_deal(hub, d, Line_Items__c=us_items), deals))
        caller.result()
    executions = [hub.execution("activation", d.opportunity_id, timeout=120) for d in deals]
    # Then the ERP never had more than the budget in flight from both together, and refused nothing
    assert hub.sandbox.max_in_flight("netsuite") <= BUDGET and hub.sandbox.refused("netsuite") == 0
    # and every activation completed without a detour, the queue's throttled invocations retried by the event
    # source (never a Task's), and the direct caller was served (or refused at once, never over the budget)
    assert [e["status"] for e in executions] == ["SUCCEEDED"] * len(deals), failures(hub, executions)
    events = [ev for e in executions for ev in history(hub, e["executionArn"])]
    entered = {ev["stateEnteredEventDetails"]["name"] for ev in events if "stateEnteredEventDetails" in ev}
    assert not entered & DETOURS and "TooManyRequestsException" not in json.dumps(events, default=str)
    assert answered and all(a["orders"] for a in answered)
    assert all(len(sales_orders(hub, d)) == 1 for d in deals)


def _queued_calls(states: dict) -> list[dict]:
    found = [s for s in states.values() if s.get("Resource") == QUEUE_RESOURCE]
    return found + [c for s in states.values() for b in s.get("Branches", []) for c in _queued_calls(b["States"])]


def test_an_erp_step_nobody_answers_times_out_into_the_outage_wait_and_resumes(hub):
    # Given the activation machine as deployed, its queued ERP calls' TimeoutSeconds (an hour) cut to 3 s, and the
    # ERP work queue's consumer stopped: the message of the ERP step is lost to the run
    sfn, machine = hub.sfn, hub.stack.physical("CustomerActivationStateMachine")
    deployed = sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    shortened = json.loads(deployed)
    for call in _queued_calls(shortened["States"]):
        call["TimeoutSeconds"] = 3
    sfn.update_state_machine(stateMachineArn=machine, definition=json.dumps(shortened))
    assert hub.stack.pause_consumers("ErpWorkQueue") == BUDGET
    try:
        deal = Deal("SilentErp")
        seed_crm(hub, deal)
        send_deal(hub, deal)
        # When nobody answers within the timeout
        outage = hub.exception(f"contract:salesforce:{deal.opportunity_id}", "erp_outage", timeout=60)
        # Then the run waits for ERP recovery (the operator's outage exception), it compensated nothing
        assert "States.Timeout" in json.dumps(outage, default=str)
        # and when the consumer is back (it books the stale message, whose answer finds its task closed) and an
        # operator resumes, the step runs again and the deal is booked once per legal entity
        hub.stack.pause_consumers("ErpWorkQueue", paused=False)
        hub.operator().resume(outage["exception_id"], {"resumed_by": "ops"})
        execution = hub.execution("activation", deal.opportunity_id, timeout=60)
    finally:
        hub.stack.pause_consumers("ErpWorkQueue", paused=False)
        sfn.update_state_machine(stateMachineArn=machine, definition=deployed)
    assert execution["status"] == "SUCCEEDED"
    entered = {ev["stateEnteredEventDetails"]["name"] for ev in history(hub, execution["executionArn"])
               if "stateEnteredEventDetails" in ev}
    assert "AwaitErpRecovery" in entered and not entered & (DETOURS - {"AwaitErpRecovery"})
    assert len(sales_orders(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2
