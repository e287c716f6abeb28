"""The KPI projection on the real template: workflow-table items written by the hub's own stores reach the
KpiProjectorFunction through the stream (as deployed); inbox records are applied as the inbox stream delivers them.
Every KPI of the report is then asserted exactly, and a redelivered batch changes none of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from erphub.kpis import projection, report
from erphub.kpis.store import KpiStore
from erphub.store.exceptions import ExceptionStore
from erphub.store.tables import to_item
from erphub.store.workflow_state import WorkflowStore

T0 = datetime.now(UTC) - timedelta(hours=2)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def inbox_record(source: str, event_id: str, status: str, minutes: float, event_type: str = "",
                 data: dict[str, Any] | None = None, correlation_id: str = "", old: dict[str, Any] | None = None,
                 published: float | None = None, business_key: str = "") -> dict[str, Any]:
    item: dict[str, Any] = {"pk": f"{source}#{event_id}", "source": source, "status": status,
                            "received_at": at(minutes), "event_type": event_type or None,
                            "correlation_id": correlation_id or event_id, "business_key": business_key}
    if data is not None:
        item["event"] = json.dumps({"type": event_type, "data": data})
    if published is not None:
        item["published_at"] = at(published)
    record: dict[str, Any] = {"eventName": "MODIFY" if old else "INSERT", "dynamodb": {"NewImage": to_item(item)}}
    if old:
        record["dynamodb"]["OldImage"] = to_item({**item, **old})
    return record


INBOX = [
    inbox_record("salesforce", "deal-1", "accepted", 0, "crm.opportunity.closed_won", {}, "c-1"),
    inbox_record("salesforce", "deal-2", "accepted", 5, "crm.opportunity.closed_won", {}, "c-2"),
    inbox_record("stripe", "evt-1", "accepted", 10, "billing.invoice.finalized", {"invoice_id": "in_1"}),
    inbox_record("stripe", "evt-2", "accepted", 20, "billing.invoice.finalized", {"invoice_id": "in_2"}),
    inbox_record("stripe", "evt-3", "accepted", 30, "billing.payment.succeeded", {"payment_id": "py_1"}),
    inbox_record("stripe", "evt-4", "ignored", 31, "-"),
    inbox_record("hubspot", "hs-1", "quarantined", 32, ""),
    inbox_record("stripe", "evt-1", "published", 10, "billing.invoice.finalized", {"invoice_id": "in_1"},
                 old={"status": "accepted", "published_at": None}, published=10.5),
]


def write_workflow_records(store: WorkflowStore, exceptions: ExceptionStore) -> None:
    store.record_status("c-1", "activation", "running", version=1)
    store.record_created("c-1", "netsuite", "sales_order", "ent-1", "SO-1")
    store.record_status("c-1", "activation", "completed", version=1)
    store.record_status("c-2", "activation", "waiting", version=1)
    store.open_exception("c-2", "activation", "identity_conflict", "two customers match")
    store.record_created("posting:stripe:in_1", "netsuite", "invoice", "in_1", "INV-1")
    for run, status in (("r-1", "waiting"), ("r-2", "completed"), ("r-3", "failed")):
        store.record_status(run, "renewal", status, version=1)
    store.open_exception("r-1", "renewal", "billing_alignment", "quantity 5 vs 4")
    mismatch = store.open_exception("c-1", "amendment", "reconciliation_mismatch", "price differs")
    exceptions.claim(mismatch, "abandon", "ana")
    exceptions.resolve(mismatch, action="abandon", actor="ana", resolution="abandoned")


def test_every_kpi_is_exact_and_a_redelivery_changes_none(operator):
    # Given the hub's records of a small day, projected through the deployed stream wiring
    kpis = KpiStore()
    store, exceptions = WorkflowStore(), ExceptionStore()
    for record in INBOX:
        projection.apply(record, kpis)
    write_workflow_records(store, exceptions)

    def projected() -> dict[str, Any] | None:
        """Done once the last records are projected: the projector writes a stream batch's tracks as it reads the
        records and the batch's facts (timeliness, completions, resolutions, checks) at its end, so both count."""
        built = report.build(kpis, "24h")
        business = built["business"]
        tracks = business["reconciliation"]["resolved"] == 1 and built["technical"]["workflow_backlog"] \
            == {"activation": 1, "renewal": 1}
        facts = (business["invoice_posting_timeliness"]["count"], business["renewal_completion"]["ended"],
                 business["reconciliation"]["time_to_resolve"]["count"], business["customer_data_quality"]["checked"])
        return built if tracks and facts == (1, 2, 1, 1) else None

    # When the KPIs are read
    built = operator.wait_until(projected, timeout=20)

    # Then each one is what the records say
    business, technical = built["business"], built["technical"]
    assert business["orders_pending_erp_posting"]["count"] == 1  # c-2: no sales order yet
    assert business["orders_pending_erp_posting"]["oldest_age_seconds"] >= 115 * 60
    assert business["invoices_awaiting_erp_sync"]["count"] == 1  # in_2
    assert business["payments_awaiting_erp_sync"]["count"] == 1  # py_1
    assert business["renewals_lacking_billing_alignment"] == 1
    assert business["unresolved_identity_conflicts"] == 1
    assert business["manual_intervention"] == {
        "open_by_kind": {"billing_alignment": 1, "identity_conflict": 1}, "transactions": 5,
        "needing_intervention": 3, "share": 0.6}
    assert business["renewal_completion"] == {"ended": 2, "completed": 1, "rate": 0.5}
    assert business["reconciliation"]["opened"] == 1 and business["reconciliation"]["open"] == 0
    assert business["reconciliation"]["time_to_resolve"]["count"] == 1
    assert business["customer_data_quality"] == {"checked": 1, "passed": 1, "share": 1.0}
    timeliness = business["invoice_posting_timeliness"]
    assert timeliness["count"] == 1 and timeliness["p50_seconds"] == timeliness["p95_seconds"] >= 100 * 60
    assert technical["webhooks"]["stripe"] == {"received": 4, "accepted": 3, "ignored": 1, "quarantined": 0,
                                               "accept_rate": 0.75, "quarantine_rate": 0.0, "refused": None}
    assert technical["webhooks"]["hubspot"]["quarantine_rate"] == 1.0
    assert technical["event_lag"] == {"count": 1, "p50_seconds": 30.0, "p95_seconds": 30.0}
    assert set(technical["sync_latency"]) == {"netsuite"}
    assert sum(built["series"]["webhooks_quarantined"]) == 1 and len(built["series"]["bucket_starts"]) == 24

    # And a redelivered batch (at-least-once streams) changes nothing
    now = datetime.now(UTC)
    before = report.build(kpis, "24h", now)
    for record in INBOX:
        projection.apply(record, kpis)
    assert report.build(kpis, "24h", now) == before


def test_an_erp_record_seen_before_its_invoice_still_closes_it(operator):
    # Given the ERP posting recorded before the inbox stream delivered the invoice (two streams, no order)
    kpis = KpiStore()
    kpis.close(projection.INVOICE, "stripe:in_9", at(50), system="netsuite")
    # When the invoice arrives afterwards
    projection.apply(inbox_record("stripe", "evt-9", "accepted", 40, "billing.invoice.finalized",
                                  {"invoice_id": "in_9"}), kpis)
    # Then it never waits, and its posting time is known
    assert all(t["sk"] != "stripe:in_9" for t in kpis.pending(projection.INVOICE))
    posted = [f for f in kpis.facts(projection.POSTED, T0) if f["id"] == "invoice_sync:stripe:in_9"]
    assert [float(f["seconds"]) for f in posted] == [600.0]


def test_a_retried_deal_posts_under_its_retry_and_an_abandoned_one_stops_waiting(operator):
    from erphub.workflows.actions import outcome

    # Given two closed-won deals waiting for their ERP sales orders
    kpis, store = KpiStore(), WorkflowStore()
    for deal in ("c-retried", "c-abandoned"):
        projection.apply(inbox_record("salesforce", deal, "accepted", 60, "crm.opportunity.closed_won", {}, deal),
                         kpis)
    # When the first posts its order in a retry run, and an operator abandons the second's activation
    store.record_created("c-retried:retry1", "netsuite", "sales_order", "ent-1", "SO-9")
    store.record_status("c-abandoned", "activation", "failed", version=1,
                        reason=f"{outcome.ABANDONED}: not a real customer")
    # Then neither is an order pending ERP posting any more
    assert projection.ABANDONED == outcome.ABANDONED
    operator.wait_until(lambda: not {"c-retried", "c-abandoned"} & {t["sk"] for t in kpis.pending(projection.ORDER)},
                        timeout=20)


def test_each_failed_delivery_counts_once(operator):
    from erphub.store.failures import FailureStore, MessageFailure

    # Given a queue message that failed twice, then was dead-lettered
    kpis, failures = KpiStore(), FailureStore()
    since = datetime.now(UTC) - timedelta(seconds=1)
    failure = MessageFailure(queue="erp-posting.fifo", message_id="m-1", error_type="NotFound", error="no customer",
                             receive_count=1, consumer="ErpPosterFunction")
    failures.record(failure)
    failures.record(failure)
    failures.mark_dead_lettered("erp-posting.fifo", "m-1", "erp-posting-dlq.fifo", "dead_letter-1")

    # Then the retry volume counts its two failed deliveries, not the dead-letter mark
    def counted() -> dict[str, Any] | None:
        volume = report.retry_volume(kpis.facts(projection.FAILED_DELIVERY, since))
        return volume if volume["failed_deliveries"] >= 2 else None

    assert operator.wait_until(counted, timeout=20) == {
        "failed_deliveries": 2, "by_queue": {"erp-posting.fifo": 2}, "by_error": {"NotFound": 2}}


def test_the_order_to_cash_cycle_runs_from_won_to_the_first_invoice_posted_to_its_payment(operator):
    from erphub.kpis import cycle

    # Given a deal won two hours ago (its activation posted its sales order)
    kpis, store = KpiStore(), WorkflowStore()
    since = datetime.now(UTC) - timedelta(seconds=1)
    projection.apply(inbox_record("salesforce", "deal-o2c", "accepted", 0, "crm.opportunity.closed_won", {},
                                  "c-o2c", business_key="OPP-O2C"), kpis)
    store.record_created("c-o2c", "netsuite", "sales_order", "ent-1", "SO-O2C")
    # When its first invoice is posted in the ERP, then a payment of a later invoice, then the first one's payment
    posted_after = (datetime.now(UTC) - T0).total_seconds()  # the deal was won at T0, when the module loaded
    store.record_created("posting:stripe:in_o2c1", "netsuite", "invoice", "in_o2c1", "INV-1", contract_id="OPP-O2C")
    store.record_created("posting:stripe:py_o2c2", "netsuite", "payment", "py_o2c2", "PAY-2", contract_id="OPP-O2C",
                         invoice_id="in_o2c2")
    store.record_created("posting:stripe:py_o2c1", "netsuite", "payment", "py_o2c1", "PAY-1", contract_id="OPP-O2C",
                         invoice_id="in_o2c1")

    # Then the cycle's legs are measured once each, from the first invoice and its own payment
    def measured() -> dict[str, Any] | None:
        paid = [f for f in kpis.facts(cycle.O2C_PAID, since) if f["id"] == "OPP-O2C"]
        return paid[0] if paid else None

    paid = operator.wait_until(measured, timeout=20)
    [invoiced] = [f for f in kpis.facts(cycle.O2C_INVOICED, since) if f["id"] == "OPP-O2C"]
    assert posted_after - 0.001 <= float(invoiced["seconds"]) <= (datetime.now(UTC) - T0).total_seconds()  # ms
    assert 0 <= float(paid["seconds"]) < 30
    assert abs(float(paid["total_seconds"]) - float(invoiced["seconds"]) - float(paid["seconds"])) <= 0.002
    milestones = kpis.milestone("OPP-O2C", "won_at", at(0))
    assert milestones["invoice_id"] == "in_o2c1" and milestones["paid:in_o2c2"] <= milestones["paid:in_o2c1"]
    # And the report gives the window's percentiles of each leg
    cycle_kpi = report.build(kpis, "24h")["business"]["order_to_cash_cycle"]
    assert cycle_kpi["won_to_invoiced"]["count"] >= 1 and cycle_kpi["won_to_paid"]["count"] >= 1


def test_the_gauges_publish_the_projections_exact_counts(operator, capsys):
    from erphub.kpis import gauges

    # Given the projection's open tracks (whatever the tests above left)
    kpis = KpiStore()
    pending = {kind: len(kpis.pending(gauge)) for gauge, kind in gauges.GAUGES.items()}
    capsys.readouterr()
    # When the schedule publishes them
    published = gauges.publish(kpis)
    # Then each kind's metric is the count of its open tracks
    metrics = [m for m in (json.loads(line) for line in capsys.readouterr().out.splitlines()
                           if line.startswith('{"_aws"')) if {"erp_sync_pending", "erp_sync_oldest_age"} & m.keys()]
    counts = {m["kind"]: int(m["erp_sync_pending"][0]) for m in metrics if "erp_sync_pending" in m}
    assert counts == pending == {kind: v["count"] for kind, v in published.items()}
    assert all(m["service"] == "erphub" for m in metrics) and len(metrics) == 6
