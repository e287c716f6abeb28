"""The `erphub demo` scenarios (local/scenarios/*.json) run end to end on the local stack, driven only by
signed webhooks, and leave one record per business object in each sandbox vendor."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix_rows import run_demo

from local.scenarios import Runner

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
ACCOUNT, CONTRACT = "0015g00000AbCdEAAZ", "0065g00000XyZ1AAA"


@pytest.fixture(scope="module")
def business_config() -> dict:
    """The demo's approval waits for its approver (the suite's 4 s approval timeout expired it before the inbox
    test could see it open)."""
    return {"approval": {"threshold": "200000", "timeout_seconds": 600, "heartbeat_seconds": 600}}


def run_the_demo(hub) -> None:
    run_demo(hub)


def test_the_demo_scenarios_run_and_leave_the_books_a_finance_team_expects(hub):
    run_the_demo(hub)
    assert_the_books(hub)


def assert_the_books(hub) -> None:
    # one Stripe subscription per legal entity, amended (150 US seats, analytics in Germany), cancelling at period end
    subs = [s for s in hub.records("stripe", "subscription") if s["metadata"].get("contract_id") == CONTRACT]
    assert len(subs) == 2 and all(s["cancel_at_period_end"] for s in subs)
    quantities = {(s["metadata"]["legal_entity_id"], i["price"]["lookup_key"]): i["quantity"]
                  for s in subs for i in s["items"]["data"] if i.get("quantity")}
    assert quantities[("LE-US", "PLATFORM-ENT_quarterly")] == 150  # the stale version-1 amendment was not applied
    assert quantities[("LE-DE", "ANALYTICS_quarterly")] == 20
    # one NetSuite customer per subsidiary; the original and the renewal order per entity, all closed
    customers = [c for c in hub.records("netsuite", "customer") if c["externalId"].startswith(ACCOUNT)]
    assert sorted(c["subsidiary"]["refName"] for c in customers) == ["DE01", "US01"]  # sent by internal id
    orders = [o for o in hub.records("netsuite", "salesOrder") if o["entity"]["externalId"].startswith(ACCOUNT)]
    assert len(orders) == 4 and {o["orderStatus"]["id"] for o in orders} == {"H"}
    forecasts = [f for f in hub.records("netsuite", "customrecord_erphub_forecast")
                 if f["externalId"].startswith(ACCOUNT)]
    assert len(forecasts) == 2
    assert len([c for c in hub.records("gainsight", "Company") if c.get("Crm_Account_Id__gc") == ACCOUNT]) == 1


def test_the_demo_leaves_one_open_exception_of_each_kind_for_the_operators(hub):
    """Scenario f populates the operators' inbox (the console and `erphub ops` have something to show)."""
    from erphub.operations.inbox import Filters, listing

    lines: list[str] = []
    runner = Runner(hub.gateway, hub.stack.client, dict(hub.stack.template.physical.items()), root=ROOT,
                    out=lines.append, sandbox=hub.stack.endpoints["sandbox"])
    assert runner.run_files([ROOT / "local" / "scenarios" / "f_operators_inbox.json"]), "\n".join(lines)
    opened = sorted(e.kind for e in listing(Filters(status="open")))
    assert opened == ["activation_failed", "approval", "data_quality", "erp_outage", "identity_conflict",
                      "quarantine"], opened
    assert runner.run_files([ROOT / "local" / "scenarios" / "f_operators_inbox.json"])  # a second run: no change
    assert sorted(e.kind for e in listing(Filters(status="open"))) == opened


def test_the_demo_run_twice_on_one_stack_passes_and_changes_nothing(hub):
    """`erphub demo` again on the same stack (after the tests above, a third time): every expectation still
    holds, as each workflow run keeps its own status and the late stale amendment, refused again, shows the
    contract as amended, not refused."""
    run_the_demo(hub)
    run_the_demo(hub)
    assert_the_books(hub)
    contract = hub.store().status(f"contract:salesforce:{CONTRACT}")
    # (the renewal and the cancellation run under their own correlation ids)
    assert contract and (contract["state"], contract["workflow"], contract["version"]) == ("amended", "amendment", "2")
    assert {(r["workflow"], r["version"], r["status"]) for r in contract["runs"]} >= {
        ("activation", "1", "completed"), ("amendment", "2", "completed"), ("amendment", "1", "refused")}
