"""The customer-to-cash KPIs after a scripted day on the local stack (its own stack, so every figure is exact):
a normal activation with its invoice and payment posted, a second activation, an ERP posting stuck on a customer the
hub does not know, a renewal out of billing alignment, an identity conflict and a quarantined webhook. The same
figures are read from GET /ops/v1/kpis, from `erphub kpis` (readable and --json) and from the console's KPI page in a
real browser (Debian's chromium), whose charts are checked against the API's series."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from deals import Deal, post
from flows import activate, billing_customers, seed_crm, send_deal, send_unaligned_renewal
from playwright.sync_api import sync_playwright
from test_erp_posting import stripe_event

from erphub_cli.client import OpsClient, sign_in
from local import cli
from local.cognito_authorizer import dev_users
from local.template import REGION

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SHOTS = Path(__file__).resolve().parents[3] / "test-output" / "console"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, as test_ops_console.py launches it (a test module is not imported by another: pytest
    would collect it twice under one name)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make browser` installs it (no browser can be downloaded)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def signed_in(browser, stack, role: str):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(stack.endpoints["gateway"] + "/ops/console")
    user = dev_users()[role]
    page.fill("input[name=username]", user["email"])
    page.fill("input[name=password]", user["password"])
    page.click("form#login button[type=submit]")
    page.wait_for_selector("h1:text('Exceptions')")
    return page


@pytest.fixture(scope="module")
def token(stack) -> str:
    user = dev_users()["viewer"]  # reading the KPIs needs no more than a viewer
    return sign_in(stack.physical("OpsUserPoolClient"), user["email"], user["password"], region=REGION,
                   endpoint_url=stack.aws.url)["IdToken"]


@pytest.fixture(scope="module")
def ops(stack, token) -> OpsClient:
    return OpsClient(stack.endpoints["gateway"] + "/ops/v1", token)


SAMPLE_SUBSCRIPTION = "sub_1PLx2vKZ8gJ0aBcD3eFgHiJk"  # the subscription events/stripe's invoice samples name


def stripe(hub, name: str, customer: str, invoice_id: str, payment_id: str = "", subscription: str = "") -> None:
    event = stripe_event(name, customer, invoice_id, payment_id)
    if subscription:
        event = event.replace(SAMPLE_SUBSCRIPTION.encode(), subscription.encode())
    status, body = post(hub.gateway, "stripe", event)
    assert status == 202, body


def scripted_day(hub, ops: OpsClient) -> dict[str, str]:
    """Plays the day; returns KpiOne's contract and the ids of its first invoice and payment."""
    # normal activations, and the first one's invoice (of its US subscription) and payment posted to the ERP; the
    # ERP throttles the invoice's first posting attempt once (429), which the connector retries in the call
    deal, _ = activate(hub, "KpiOne")
    other, _ = activate(hub, "KpiTwo")
    customer = next(c["id"] for c in billing_customers(hub, deal) if c["metadata"]["legal_entity_id"] == "LE-US")
    subscription = next(s["id"] for s in hub.records("stripe", "subscription") if s["customer"] == customer)
    invoice, payment = f"in_{uuid.uuid4().hex[:16]}", f"pi_{uuid.uuid4().hex[:16]}"
    hub.sandbox.faults.inject("netsuite", "invoice.upsert", kind="429", times=1, retry_after=0.1)
    for name in ("invoice.finalized", "payment_intent.succeeded", "invoice.paid"):
        stripe(hub, name, customer, invoice, payment, subscription)
    hub.stack.wait_until(lambda: hub.store().created(f"posting:stripe:{payment}", "payment"), timeout=30)
    # a stuck ERP posting: an invoice of a billing customer the hub never activated (the poster retries it)
    stripe(hub, "invoice.finalized", f"cus_{uuid.uuid4().hex[:14]}", f"in_{uuid.uuid4().hex[:16]}")
    # a renewal out of alignment: it renews a product billing does not have
    send_unaligned_renewal(hub, deal)
    # an identity conflict: a new account carrying the tax ids of both known customers
    merged = Deal("KpiMerged")
    merged.entities[0]["tax_id"], merged.entities[1]["tax_id"] = deal.entities[0]["tax_id"], other.entities[1]["tax_id"]
    seed_crm(hub, merged)
    send_deal(hub, merged)
    # a quarantined webhook: verified, but its legal entities cannot be mapped
    send_deal(hub, Deal("KpiBroken"), Legal_Entities__c="[{broken")
    for kind in ("billing_alignment", "identity_conflict", "quarantine"):
        hub.stack.wait_until(lambda k=kind: ops.get("/exceptions", kind=k, status="open"), timeout=30, interval=0.2)
    return {"contract": deal.opportunity_id, "invoice": invoice, "payment": payment}


def expected_cycle(hub, day: dict[str, str]) -> dict[str, float]:
    """KpiOne's order-to-cash legs from the hub's own records: the closed-won deal's inbox item, the ERP ledger's
    invoice and payment postings."""
    from erphub.kpis.store import seconds_between

    [won] = [i for i in hub.stack.client("dynamodb").scan(TableName=hub.stack.physical("InboxTable"))["Items"]
             if i.get("business_key", {}).get("S") == day["contract"]
             and i.get("event_type", {}).get("S") == "crm.opportunity.closed_won"]
    [invoiced] = hub.store().created(f"posting:stripe:{day['invoice']}", "invoice")
    [paid] = hub.store().created(f"posting:stripe:{day['payment']}", "payment")
    assert invoiced["contract_id"] == paid["contract_id"] == day["contract"]
    return {"won_to_invoiced": seconds_between(won["received_at"]["S"], invoiced["at"]),
            "invoiced_to_paid": seconds_between(invoiced["at"], paid["at"]),
            "won_to_paid": seconds_between(won["received_at"]["S"], paid["at"])}


EXPECTED_BUSINESS = {
    # closed-won KpiMerged waits on its identity conflict; KpiOne and KpiTwo have their sales orders
    "orders_pending_erp_posting": 1,
    # the unknown customer's invoice (KpiOne's was posted once, though finalized and paid both arrived)
    "invoices_awaiting_erp_sync": 1,
    "payments_awaiting_erp_sync": 0,
    "renewals_lacking_billing_alignment": 1,
    "unresolved_identity_conflicts": 1,
    # runs: KpiOne, KpiTwo (completed), KpiMerged (waiting), the renewal (waiting); the last two needed a person
    # the quarantined webhook is an open exception too (kind quarantine), of no workflow run
    "manual_intervention": {"open_by_kind": {"billing_alignment": 1, "identity_conflict": 1, "quarantine": 1},
                            "transactions": 4, "needing_intervention": 2, "share": 0.5},
    "renewal_completion": {"ended": 0, "completed": 0, "rate": None},
    "customer_data_quality": {"checked": 2, "passed": 2, "share": 1.0},
}


def failed_attempts(hub) -> int:
    """The failed queue deliveries the hub's failure records count (FAIL# items of the workflow table)."""
    items = hub.stack.client("dynamodb").scan(TableName=hub.stack.physical("WorkflowTable"),
                                               FilterExpression="begins_with(pk, :f)",
                                               ExpressionAttributeValues={":f": {"S": "FAIL#"}})["Items"]
    return sum(int(i["attempts"]["N"]) for i in items)


def assert_exact(kpis: dict, cycle: dict[str, float]) -> None:
    business, technical = kpis["business"], kpis["technical"]
    # KpiOne's cycle, and only it: the stuck invoice belongs to no subscription the hub linked. Won -> paid is exact
    # from the records; the ledger's invoice item keeps its latest posting (invoice.paid posts it again, idempotently)
    # while the cycle counts the first, so won -> invoiced is at most the ledger's figure and the legs add up
    o2c = business["order_to_cash_cycle"]
    assert o2c["won_to_paid"] == {"count": 1, "p50_seconds": cycle["won_to_paid"], "p95_seconds": cycle["won_to_paid"]}
    for leg in ("won_to_invoiced", "invoiced_to_paid"):
        assert o2c[leg]["count"] == 1 and o2c[leg]["p50_seconds"] == o2c[leg]["p95_seconds"] > 0, leg
    assert o2c["won_to_invoiced"]["p50_seconds"] <= cycle["won_to_invoiced"]
    assert abs(o2c["won_to_invoiced"]["p50_seconds"] + o2c["invoiced_to_paid"]["p50_seconds"]
               - cycle["won_to_paid"]) <= 0.002  # each leg is rounded to the millisecond
    # every vendor call answered but NetSuite's one throttled invoice posting attempt
    errors = technical["api_error_rates"]
    assert errors["netsuite"]["by_error"] == {"RateLimited": 1} and errors["netsuite"]["throttles"] == 1
    assert errors["netsuite"]["by_http"] == {"4xx": 1}
    assert errors["netsuite"]["error_rate"] == round(1 / errors["netsuite"]["calls"], 4)
    assert {vendor: e["errors"] for vendor, e in errors.items() if vendor != "netsuite"} == \
        {vendor: 0 for vendor in errors if vendor != "netsuite"}
    assert {"netsuite", "stripe", "salesforce"} <= set(errors)
    for name, expected in EXPECTED_BUSINESS.items():
        actual = business[name]["count"] if isinstance(business[name], dict) and "count" in business[name] \
            else business[name]
        assert actual == expected, name
    assert business["orders_pending_erp_posting"]["oldest_age_seconds"] > 0
    assert business["invoice_posting_timeliness"]["count"] == 1
    assert business["reconciliation"] == {"opened": 0, "resolved": 0, "open": 0, "time_to_resolve": {
        "count": 0, "p50_seconds": None, "p95_seconds": None}}
    # Salesforce: four deals and the renewal, one of them quarantined; Stripe: four billing events
    assert technical["webhooks"]["salesforce"] == {"received": 5, "accepted": 4, "ignored": 0, "quarantined": 1,
                                                   "accept_rate": 0.8, "quarantine_rate": 0.2, "refused": None}
    assert technical["webhooks"]["stripe"]["received"] == 4 and technical["webhooks"]["stripe"]["quarantined"] == 0
    assert technical["workflow_backlog"] == {"activation": 1, "renewal": 1}
    # two sales orders' first postings, one invoice, one payment: all in NetSuite
    assert list(technical["sync_latency"]) == ["netsuite"] and technical["sync_latency"]["netsuite"]["count"] == 4
    assert technical["event_lag"]["count"] == 4 + technical["webhooks"]["stripe"]["accepted"]
    assert sum(kpis["series"]["webhooks_quarantined"]) == 1 and sum(kpis["series"]["exceptions_opened"]) == 3
    # the stuck invoice failed at least once at the ERP poster (SQS retries it): every failed attempt the failure
    # records count, and only those
    retries = technical["retry_volume"]
    assert retries["failed_deliveries"] >= 1 and retries["by_error"].get("NotFound", 0) >= 1


def test_every_kpi_is_exact_in_the_api_the_cli_and_the_console(hub, ops, token, monkeypatch, capsys, browser):
    # Given the scripted day
    day = scripted_day(hub, ops)

    # When the KPIs are read over the operator API, once the projection has caught up
    polls: list[bool] = []

    def caught_up() -> dict | None:
        kpis = ops.get("/kpis")
        # the stuck invoice keeps failing (SQS retries it): the projection has caught up with the failure records
        # when it counts exactly their attempts (a stream batch reaches the projector up to 0.25 s after the write)
        done = kpis["technical"]["workflow_backlog"] == {"activation": 1, "renewal": 1} and \
            1 <= kpis["technical"]["retry_volume"]["failed_deliveries"] == failed_attempts(hub) and \
            kpis["business"]["order_to_cash_cycle"]["won_to_paid"]["count"] == 1 and \
            kpis["business"]["manual_intervention"]["open_by_kind"] == {"billing_alignment": 1,
                                                                        "identity_conflict": 1, "quarantine": 1}
        # a batch's facts are written at its end, after its tracks: the facts asserted below are counted too
        facts = (kpis["business"]["invoice_posting_timeliness"]["count"],
                 (kpis["technical"]["sync_latency"].get("netsuite") or {}).get("count"),
                 sum(kpis["series"]["webhooks_quarantined"]), sum(kpis["series"]["exceptions_opened"]))
        done = done and facts == (1, 4, 1, 3)
        # twice in a row
        polls.append(done)
        return kpis if done and polls[-2:] == [True, True] else None

    kpis = hub.stack.wait_until(caught_up, timeout=30, interval=0.3)
    assert kpis["technical"]["retry_volume"]["failed_deliveries"] == failed_attempts(hub)
    cycle = expected_cycle(hub, day)

    # Then every figure is the one the day's records give
    assert_exact(kpis, cycle)
    assert ops.get("/kpis", window="7d")["business"]["manual_intervention"] == kpis["business"]["manual_intervention"]

    # And `erphub kpis` shows the same figures, as JSON and as a table
    monkeypatch.setenv("ERPHUB_OPS_TOKEN", token)
    monkeypatch.setenv("ERPHUB_OPS_URL", hub.gateway + "/ops/v1")
    capsys.readouterr()
    assert cli.main(["kpis", "--json"]) == 0
    assert_exact(json.loads(capsys.readouterr().out), cycle)
    assert cli.main(["kpis"]) == 0
    table = capsys.readouterr().out
    for row in (r"orders pending ERP posting +1 \(oldest \d", r"invoices awaiting ERP sync +1 \(oldest",
                r"payments awaiting ERP sync +0 \(oldest -\)", r"renewals lacking billing alignment +1\n",
                r"unresolved identity conflicts +1\n", r"transactions needing intervention +2 of 4 \(50\.0%\)",
                r"customer data quality +100\.0% passing \(2 of 2\)", r"renewal completion rate +- \(0 of 0\)",
                r"webhooks salesforce +5 received: accepted 80\.0%, ignored 0, quarantined 1 \(20\.0%\)",
                r"workflow backlog +activation 1, renewal 1\n", r"order to cash: won -> paid +p50 \S+, p95 \S+ \(n=1\)",
                r"API error rate netsuite +\d+\.\d% \(1 of \d+ calls; throttled 1\)"):
        assert re.search(row, table), row

    # And the console's KPI page shows them, with one chart per series drawn from the API's counts
    page = signed_in(browser, hub.stack, "viewer")
    try:
        page.goto(page.url.split("#")[0] + "#/kpis")
        page.wait_for_selector("table#kpis")
        shown = {row.get_attribute("data-kpi"): row.text_content() for row in page.query_selector_all("#kpis tr")}
        page.screenshot(path=str(SHOTS / "kpis-24h.png"), full_page=True)
        assert_console(shown, page, kpis)
        page.click("text=7 d")
        page.wait_for_selector("h1:text('KPIs — last 7d')")
        assert len(page.query_selector_all("svg[data-series='erp_postings'] rect.bar")) == 7
    finally:
        page.close()


def assert_console(shown: dict, page, kpis: dict) -> None:
    expected = {
        "orders_pending_erp_posting": r"Orders pending ERP posting1 \(oldest \d+ (s|min)\)",
        "invoices_awaiting_erp_sync": r"Invoices awaiting ERP sync1 \(oldest",
        "payments_awaiting_erp_sync": r"Payments awaiting ERP sync0$",
        "renewals_lacking_billing_alignment": r"billing alignment1$",
        "unresolved_identity_conflicts": r"identity conflicts1$",
        "open_exceptions": r"billing_alignment 1, identity_conflict 1, quarantine 1$",
        "manual_intervention": r"2 of 4 \(50\.0%\)$",
        "renewal_completion": r"- \(0 of 0\)$",
        "customer_data_quality": r"100\.0% passing \(2 of 2\)$",
        "webhooks_salesforce": r"5 received: accepted 80\.0%, ignored 0, quarantined 1 \(20\.0%\)$",
        "workflow_backlog": r"activation 1, renewal 1$",
        "sync_latency_netsuite": r"\(n=4\)$",
        "retry_volume": rf"deliveries\){kpis['technical']['retry_volume']['failed_deliveries']};",
        "o2c_won_to_invoiced": r"\(n=1\)$", "o2c_invoiced_to_paid": r"\(n=1\)$", "o2c_won_to_paid": r"\(n=1\)$",
        "api_errors_netsuite": rf"\(1 of {kpis['technical']['api_error_rates']['netsuite']['calls']} calls; "
                               r"throttled 1\)$",
    }
    for kpi, pattern in expected.items():
        assert re.search(pattern, shown[kpi]), (kpi, shown[kpi])
    for name, counts in kpis["series"].items():
        if name != "bucket_starts":
            chart = page.query_selector(f"svg[data-series='{name}']")
            assert chart.get_attribute("data-total") == str(sum(counts)), name
            assert len(chart.query_selector_all("rect.bar")) == 24
    assert page.query_selector("#unavailable li[data-kpi='order_to_cash_cycle']") is None
    assert page.query_selector("#unavailable li[data-kpi='api_error_rates']") is None


def test_the_projector_and_the_kpi_route_called_only_what_their_template_policies_allow(hub):
    """After the day above: every AWS call of the projector and of the operator API, against their IAM roles."""
    from tools import iam_audit

    audited = ("KpiProjectorFunction", "OpsApiFunction", "ErpAdapterFunction", "BillingAdapterFunction")
    findings = [f for f in iam_audit.audit(hub.stack) if f.function in audited]
    assert findings == []
    projected = {c.operation for f, calls in hub.stack.aws_calls.items() if f == "KpiProjectorFunction" for c in calls}
    # tracks updated one by one, a batch's facts in BatchWriteItems; Query: the gauges' schedule
    assert {"UpdateItem", "BatchWriteItem"} <= projected <= {"UpdateItem", "BatchWriteItem", "Query"}
    counted = {(c.operation, c.resource) for f, calls in hub.stack.aws_calls.items() if f == "ErpAdapterFunction"
               for c in calls if c.operation == "UpdateItem"}
    assert any(hub.stack.physical("KpiTable") in str(resource) for _, resource in counted)  # its vendor calls
    read = {c.operation for f, calls in hub.stack.aws_calls.items() if f == "OpsApiFunction" for c in calls}
    assert "Query" in read
