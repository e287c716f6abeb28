"""Scheduled reconciliation on the local stack, on the NetSuite and the Dynamics 365 rows of the matrix: drift
injected through the sandbox's control API (an ERP order line, a Stripe item quantity changed behind the hub's
back) is found by the daily schedule and opens one exception with the diff; the next day's run finds the same
unresolved diff and opens nothing new."""

from __future__ import annotations

from typing import Any

import pytest
from matrix import ROWS, MatrixDeal, activate, amend, cancel, renew, sales_orders, subscriptions
from matrix_rows import SEATS_UP, row_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KIND = "reconciliation_mismatch"


row, stack_parameters = row_fixtures(ROWS)


def change_erp_quantity(hub: Any, row: Any, order: dict[str, Any], sku: str, quantity: int) -> None:
    """An accountant edits the order line in the ERP: the record is rewritten through the sandbox control API."""
    if row.erp == "netsuite":
        for line in order["item"]["items"]:
            if line["item"]["externalId"] == sku:
                line["quantity"] = quantity
        hub.sandbox.seed("netsuite", "salesOrder", order)
        return
    (line,) = [line for line in hub.records("dynamics", "salesorderdetails")
               if line["erphub_externalid"].startswith(order["erphub_externalid"] + "-") and line["erphub_sku"] == sku]
    hub.sandbox.seed("dynamics", "salesorderdetails", {**line, "quantity": quantity})


def change_stripe_quantity(hub: Any, subscription: dict[str, Any], sku: str, quantity: int) -> None:
    """Someone edits the subscription item's quantity in the Stripe dashboard."""
    for item in subscription["items"]["data"]:
        if item["price"]["lookup_key"].rsplit("_", 1)[0] == sku:
            item["quantity"] = quantity
    hub.sandbox.seed("stripe", "subscription", subscription)


def reconciliation_exceptions(hub: Any, contract_id: str) -> list[dict[str, Any]]:
    return [e for e in hub.store().exceptions(contract_id) if e["kind"] == KIND]


def run_of(hub: Any, reconciliation_id: str) -> dict[str, Any] | None:
    from erphub.reconciliation.store import ReconciliationStore

    store = ReconciliationStore(hub.stack.physical("WorkflowTable"), hub.stack.client("dynamodb"))
    try:
        run = store.run(reconciliation_id)
    except Exception:
        return None
    # a completed run, once the invocation that wrote it has ended: the reconciler runs one at a time (reserved
    # concurrency 1), so a direct invoke while the scheduled one finishes its tail (counters, metrics) is
    # throttled, as on Lambda
    idle = hub.stack.functions.get("ReconcilerFunction").concurrency.running == 0
    return run if run["status"] == "completed" and idle else None


def test_drift_in_the_erp_is_found_by_the_daily_schedule_once(hub, row):
    # Given an activated two-entity deal whose US order line is then changed in the ERP (100 -> 90 seats)
    deal = MatrixDeal("Recon", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    change_erp_quantity(hub, row, sales_orders(hub, row, deal)["LE-US"], "PLATFORM-ENT", 90)
    # When the daily schedule fires
    hub.stack.fire_schedule("ReconcilerFunction.Events.Daily")
    from datetime import UTC, datetime

    today = f"daily-{datetime.now(UTC).date().isoformat()}"
    run = hub.stack.wait_until(lambda: run_of(hub, today), timeout=60, interval=0.2)
    # Then one exception names the contract, the entity, the item and each system's quantity
    (exception,) = reconciliation_exceptions(hub, deal.opportunity_id)
    assert exception["detail"]["mismatch"] == {"contract_id": deal.opportunity_id, "entity": "LE-US",
                                               "sku": "PLATFORM-ENT", "field": "quantity", "contract": "100",
                                               "billing": "100", "erp": "90"}
    assert run["mismatched"] >= 1 and run["exceptions_opened"] >= 1
    # And the next day's run finds the same unresolved diff and opens nothing new
    report = hub.stack.invoke("ReconcilerFunction", {"source": "aws.events", "detail-type": "Scheduled Event",
                                                     "time": "2099-01-02T02:00:00Z", "detail": {}})
    assert report["reconciliation_id"] == "daily-2099-01-02" and report["status"] == "completed"
    assert report["exceptions_opened"] == 0 and report["mismatched"] >= 1
    assert [e["exception_id"] for e in reconciliation_exceptions(hub, deal.opportunity_id)] == \
        [exception["exception_id"]]


def test_a_deal_nobody_touched_matches(hub, row):
    deal = MatrixDeal("ReconClean", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    report = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, "clean")})
    from erphub.reconciliation.store import ReconciliationStore

    results = ReconciliationStore(hub.stack.physical("WorkflowTable"), hub.stack.client("dynamodb")).results(
        report["reconciliation_id"])
    mine = [r for r in results if r["contract_id"] == deal.opportunity_id]
    assert [(r["outcome"], r.get("mismatches")) for r in mine] == [("matched", [])]
    assert reconciliation_exceptions(hub, deal.opportunity_id) == []


def test_a_renewed_and_a_cancelled_contract_raise_nothing(hub, row):
    # Given a renewed deal (its subscriptions now belong to the renewal) and one cancelled at period end (its ERP
    # orders closed on purpose while billing runs to the end of the period)
    renewed, ending = MatrixDeal("ReconRenewed", row.crm), MatrixDeal("ReconEnding", row.crm)
    for deal in (renewed, ending):
        assert activate(hub, deal)["status"] == "SUCCEEDED"
    renewal_id, execution = renew(hub, renewed)
    assert execution["status"] == "SUCCEEDED"
    assert cancel(hub, ending, "at_period_end")["status"] == "SUCCEEDED"
    # When reconciliation runs
    report = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, "renewed")})
    from erphub.reconciliation.store import ReconciliationStore

    results = {r["contract_id"]: r for r in ReconciliationStore(
        hub.stack.physical("WorkflowTable"), hub.stack.client("dynamodb")).results(report["reconciliation_id"])}
    # Then the renewal is checked and matches; the renewed and the ending contracts are left alone
    assert results[renewal_id]["outcome"] == "matched", results[renewal_id]
    assert renewed.opportunity_id not in results and ending.opportunity_id not in results
    for contract_id in (renewed.opportunity_id, renewal_id, ending.opportunity_id):
        assert reconciliation_exceptions(hub, contract_id) == []


def test_an_amended_contract_matches_its_amended_terms(hub, row):
    # Given a deal amended mid-term: 50 more US seats, a module added in Germany, billed quarterly from now on
    deal = MatrixDeal("ReconAmend", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    assert amend(hub, deal, 2, SEATS_UP, Billing_Frequency__c="Quarterly")["status"] == "SUCCEEDED"
    # When reconciliation runs, then the contract matches: terms, billing and ERP all moved together
    report = hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, "amended")})
    from erphub.reconciliation.store import ReconciliationStore

    results = {r["contract_id"]: r for r in ReconciliationStore(
        hub.stack.physical("WorkflowTable"), hub.stack.client("dynamodb")).results(report["reconciliation_id"])}
    assert (results[deal.opportunity_id]["outcome"], results[deal.opportunity_id]["mismatches"]) == ("matched", [])


def test_a_stripe_quantity_changed_behind_the_hubs_back_is_found(hub, row):
    if row.billing != "stripe":
        pytest.skip("the drift is a Stripe subscription item: this row bills with " + row.billing)
    deal = MatrixDeal("ReconStripe", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    change_stripe_quantity(hub, subscriptions(hub, row, deal)["LE-DE"], "PLATFORM-ENT", 25)
    hub.stack.invoke("ReconcilerFunction", {"reconciliation_id": _start(hub, "stripe")})
    (exception,) = reconciliation_exceptions(hub, deal.opportunity_id)
    assert exception["detail"]["mismatch"] == {"contract_id": deal.opportunity_id, "entity": "LE-DE",
                                               "sku": "PLATFORM-ENT", "field": "quantity", "contract": "20",
                                               "billing": "25", "erp": "20"}


def _start(hub: Any, label: str) -> str:
    from erphub.reconciliation.store import ReconciliationStore

    store = ReconciliationStore(hub.stack.physical("WorkflowTable"), hub.stack.client("dynamodb"))
    reconciliation_id = f"test-{label}"
    store.create(reconciliation_id, "test")
    return reconciliation_id


def test_an_operator_starts_one_from_the_api_and_every_call_is_allowed_by_the_template(hub, row):
    from erphub_cli.client import OpsClient, sign_in
    from local.cognito_authorizer import dev_users
    from local.template import REGION
    from tools import iam_audit

    user = dev_users()["operator"]
    tokens = sign_in(hub.stack.physical("OpsUserPoolClient"), user["email"], user["password"], region=REGION,
                     endpoint_url=hub.stack.aws.url)
    ops = OpsClient(hub.stack.endpoints["gateway"] + "/ops/v1", tokens["IdToken"])
    # When the operator starts a reconciliation through the API (handed to the reconciler asynchronously)
    started = ops.post("/reconciliations")
    assert started["reconciliation_id"].startswith("ondemand-") and started["trigger"] == "operator"
    report = hub.stack.wait_until(lambda: (r := ops.get(f"/reconciliations/{started['reconciliation_id']}"))
                                  ["status"] == "completed" and r, timeout=60, interval=0.3)
    # Then it reports every contract of this stack, the drifted one(s) first
    assert report["checked"] == len(report["contracts"]) >= 2 and report["exceptions_opened"] == 0
    assert report["contracts"][0]["outcome"] == "mismatched"
    # And the reconciler, the adapters' reads and the API's hand-off are all allowed by their template policies
    assert {"ReconcilerFunction", "OpsApiFunction"} <= hub.stack.aws_calls.keys()
    findings = iam_audit.audit(hub.stack)
    assert findings == [], "\n".join(map(str, findings))
