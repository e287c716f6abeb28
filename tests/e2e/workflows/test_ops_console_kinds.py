"""The operator's day in a real browser (Debian's chromium, headless, Playwright) for the kinds the first console
tests left out: a renewal lacking billing alignment resumed; a reconciliation mismatch and a workflow past its
completion SLA found with the kind filter (its options come from GET /kinds), inspected, their cause fixed where it
lies, resolved with a note and seen done. Each ends with the vendor sandbox's records (one per business object)
and the audit trail; a screenshot of each page under test-output/console/."""

from __future__ import annotations

import json
import uuid

import console_browser
import pytest
from deals import Deal
from flows import activate, correlation, erp_customers, sales_orders, send_unaligned_renewal, subscriptions
from kinds_days import contract_result, drifted, late_activation, reconcile, set_erp_seats, unpublishable, us_order

from erphub_cli.client import OpsClient
from local import webhooks
from local.cognito_authorizer import dev_users

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
browser, api, page = console_browser.browser, console_browser.api, console_browser.page
SHOTS = console_browser.SHOTS
OPERATOR = dev_users()["operator"]["email"]


@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return {"QueueRetryDelaySeconds": "1"}  # the ERP poster gives up after 4 receives: seconds, not minutes


def find_in_inbox(hub, api: OpsClient, page, kind: str, business_id: str, shot: str) -> str:
    """Wait for the exception, then find it as an operator does: kind and business id in the inbox's filter."""
    [found] = hub.stack.wait_until(lambda: api.get("/exceptions", kind=kind, status="open", business_id=business_id),
                                   timeout=60, interval=0.3)
    page.goto(page.url.split("#")[0] + "#/exceptions")
    page.select_option("form#filters select[name=kind]", kind)
    page.fill("form#filters input[name=business_id]", business_id)
    page.click("form#filters button[type=submit]")
    page.wait_for_function("""id => {
        const rows = document.querySelectorAll("table#exceptions tbody tr");
        return rows.length === 1 && rows[0].dataset.exceptionId === id;
    }""", arg=found["exception_id"])
    page.screenshot(path=str(SHOTS / f"{shot}-inbox.png"), full_page=True)
    page.locator("table#exceptions tbody tr a").click()
    page.wait_for_selector("h1[data-status=open]")
    page.screenshot(path=str(SHOTS / f"{shot}-exception.png"), full_page=True)
    return found["exception_id"]


def act(page, action: str, note: str, shot: str) -> str:
    page.fill(f"form.action[data-action={action}] textarea[name=note]", note)
    page.click(f"form.action[data-action={action}] button[type=submit]")
    page.wait_for_selector("h1[data-status=resolved]")
    assert page.query_selector_all(f"form.action[data-action={action}]") == []
    page.screenshot(path=str(SHOTS / f"{shot}-done.png"), full_page=True)
    return page.text_content("#flash")


def audited(api: OpsClient, exception_id: str, action: str, note: str) -> None:
    detail = api.get(f"/exceptions/{exception_id}")
    assert detail["status"] == "resolved" and detail["resolved_by"] == OPERATOR
    [entry] = [e for e in detail["audit"] if e["action"] == action]
    assert (entry["actor"], entry["before"]["status"], entry["after"]["status"]) == (OPERATOR, "open", "resolved")
    assert entry["note"] == note


def test_the_kind_filter_offers_every_kind_the_api_knows(hub, api, page):
    offered = page.eval_on_selector_all("form#filters select[name=kind] option", "os => os.map(o => o.value)")
    assert offered == ["", *(k["kind"] for k in api.get("/kinds"))]
    assert {"workflow_sla_breached", "outbox_unpublishable", "reconciliation_mismatch", "dead_letter"} <= set(offered)


def test_resume_in_the_browser_after_billing_is_aligned_renews_once(hub, api, page):
    # Given an activated customer whose renewal adds a product billing does not have yet
    deal, _ = activate(hub, "WebAlign")
    renewal_id = send_unaligned_renewal(hub, deal)
    # The operator finds it, reads why it waits and resumes it once billing-ops aligned the price
    exception_id = find_in_inbox(hub, api, page, "billing_alignment", renewal_id, "billing-alignment")
    assert "SSO is renewed but not billed" in page.text_content("dl.facts")
    assert act(page, "resume", "SSO price added in Stripe", "billing-alignment").startswith("resume: ")
    # Then the renewal completes once: one renewal order per entity, still one subscription per entity
    assert hub.execution("renewal", renewal_id, 1)["status"] == "SUCCEEDED"
    assert len([o for o in hub.records("netsuite", "salesOrder") if o.get("otherRefNum") == renewal_id]) == 2
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
    audited(api, exception_id, "resume", "SSO price added in Stripe")


def test_a_reconciliation_mismatch_fixed_in_netsuite_is_resolved_in_the_browser(hub, api, page):
    # Given drift an accountant made in NetSuite, found by a reconciliation the operator started
    deal = drifted(hub, "WebRecon")
    found = contract_result(reconcile(hub, api.post, api.get), deal)
    assert found["outcome"] == "mismatched"
    # The operator finds the mismatch with the kind filter and reads each system's value
    exception_id = find_in_inbox(hub, api, page, "reconciliation_mismatch", deal.opportunity_id, "reconciliation")
    facts = page.text_content("dl.facts")
    assert "PLATFORM-ENT" in facts and "80" in facts and "finance-systems" in facts
    # When they set the order line back in NetSuite and resolve the exception saying so
    set_erp_seats(hub, deal, 100)
    flash = act(page, "resolve", "US order line set back to 100 seats in NetSuite", "reconciliation")
    assert flash == f"resolve: resolved by {OPERATOR}: US order line set back to 100 seats in NetSuite"
    # Then the next reconciliation finds the contract matched and opens nothing again
    again = contract_result(reconcile(hub, api.post, api.get), deal)
    assert again["outcome"] == "matched"
    assert api.get("/exceptions", kind="reconciliation_mismatch", status="open", business_id=deal.opportunity_id) == []
    # And NetSuite holds one order per entity, the US one with its 100 seats; one subscription per entity
    assert len(sales_orders(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 2
    assert {line["quantity"] for line in us_order(hub, deal)["item"]["items"]
            if line["item"]["externalId"] == "PLATFORM-ENT"} == {100}
    audited(api, exception_id, "resolve", "US order line set back to 100 seats in NetSuite")


def test_a_workflow_past_its_sla_is_seen_to_and_resolved_in_the_browser(hub, api, page):
    # Given an activation that has waited on a NetSuite outage past its 4 h completion SLA
    deal: Deal = late_activation(hub, "WebLate")
    breach = find_in_inbox(hub, api, page, "workflow_sla_breached", correlation(deal), "sla-breach")
    assert "past its completion SLA of 4 h" in page.text_content("dl.facts")
    # The operator follows the run to what holds it: the ERP outage, which they resume once NetSuite is back
    page.click("dl.facts dd a")
    page.wait_for_selector("h1[data-status=waiting]")
    page.screenshot(path=str(SHOTS / "sla-breach-run.png"), full_page=True)
    hub.sandbox.faults.clear()
    page.click("section ul li a:text('erp_outage')")
    page.wait_for_selector("h1[data-status=open]")
    act(page, "resume", "NetSuite is back", "sla-breach-outage")
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    # When they resolve the breach, saying what was done
    page.goto(page.url.split("#")[0] + f"#/exceptions/{breach}")
    page.wait_for_selector("h1[data-status=open]")
    act(page, "resolve", "outage over, activation resumed", "sla-breach")
    # Then the run is completed, one record per business object, and both actions are in the run's audit trail
    assert len(sales_orders(hub, deal)) == 2 and len(erp_customers(hub, deal)) == 2
    assert len(subscriptions(hub, deal)) == 2
    audited(api, breach, "resolve", "outage over, activation resumed")
    run = api.get(f"/runs/{correlation(deal)}")
    assert run["status"] == "completed"
    assert {(a["action"], a["actor"]) for a in run["audit"]} >= {("resume", OPERATOR), ("resolve", OPERATOR)}
    assert api.get("/exceptions", status="open", business_id=correlation(deal)) == []


def test_a_dead_letter_redriven_from_the_inbox_posts_the_invoice_once(hub, api, page):
    from tests.e2e.test_recovery import stripe_invoice

    # Given an activated customer whose invoice arrived while NetSuite was down: the ERP poster dead-lettered it
    deal, _ = activate(hub, "WebInboxRedrive")
    customer = next(c["id"] for c in hub.records("stripe", "customer")
                    if str((c.get("metadata") or {}).get("erphub_key", "")) == f"{deal.account_id}:LE-US")
    invoice_id = f"in_{uuid.uuid4().hex[:16]}"
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=100_000)
    try:
        assert webhooks.post(hub.gateway, "stripe", stripe_invoice(customer, invoice_id))[0] == 202
        dlq = hub.stack.physical("ErpPostingDLQ").rsplit("/", 1)[-1]
        letter = hub.stack.wait_until(lambda: next(
            (m for m in api.get(f"/dlqs/{dlq}/messages")["messages"] if invoice_id in m["body"] and m["exception_id"]),
            None), timeout=90, interval=0.5)
    finally:
        hub.sandbox.faults.clear()
    # The operator finds it in the inbox (kind dead_letter, by its run) and reads why it failed
    run = api.get(f"/exceptions/{letter['exception_id']}")["correlation_id"]
    assert find_in_inbox(hub, api, page, "dead_letter", run, "dead-letter") == letter["exception_id"]
    assert letter["reason"]["error_type"] in page.text_content("dl.facts")
    exception_id = letter["exception_id"]
    # When they take the exception's own redrive action
    page.fill("form.action[data-action=redrive] textarea[name=note]", "NetSuite is back")
    page.click("form.action[data-action=redrive] button[type=submit]")
    page.wait_for_selector("#flash.ok")
    assert page.text_content("#flash") == "redrive: 1 redriven"
    # Then NetSuite holds the invoice once, and the exception, seen again, is resolved with the operator's note
    posted = hub.stack.wait_until(lambda: [i for i in hub.records("netsuite", "invoice")
                                           if invoice_id in json.dumps(i)], timeout=30, interval=0.2)
    assert len(posted) == 1
    page.reload()
    page.wait_for_selector("h1[data-status=resolved]")
    page.screenshot(path=str(SHOTS / "dead-letter-done.png"), full_page=True)
    [entry] = [a for a in api.get(f"/exceptions/{exception_id}")["audit"] if a["action"] == "redrive"]
    assert (entry["actor"], entry["note"]) == (OPERATOR, "NetSuite is back")
    assert len(sales_orders(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 2


def test_an_unpublishable_event_is_repaired_from_the_browser_by_replaying_its_webhook(hub, api, page, monkeypatch):
    # Given a deal's event the outbox could not publish: quarantined, with an outbox_unpublishable exception
    deal, key = unpublishable(hub, monkeypatch, "WebOutbox")
    exception_id = find_in_inbox(hub, api, page, "outbox_unpublishable", key, "outbox-unpublishable")
    assert "cannot be published" in page.text_content("dl.facts")
    # The operator follows it to the stored webhook and replays it, mapped again (the mapping is fixed)
    page.click("#webhook-link")
    page.wait_for_selector("h1[data-status=quarantined]")
    page.click("form.action[data-action=renormalize] button")
    page.wait_for_selector("#flash.ok")
    assert "replayed" in page.text_content("#flash")
    page.screenshot(path=str(SHOTS / "outbox-unpublishable-replayed.png"), full_page=True)
    # Then the deal is activated once, and the exception, seen again, is resolved by the operator's replay
    assert hub.execution("activation", deal.opportunity_id, timeout=60)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
    assert len(erp_customers(hub, deal)) == 2
    page.goto(page.url.split("#")[0] + f"#/exceptions/{exception_id}")
    page.wait_for_selector("h1[data-status=resolved]")
    page.screenshot(path=str(SHOTS / "outbox-unpublishable-done.png"), full_page=True)
    detail = api.get(f"/exceptions/{exception_id}")
    assert detail["resolved_by"] == OPERATOR and detail["actions"] == []
    # the replay's close is audited with the stored status "closed" (the inbox shows it as resolved)
    assert [(e["actor"], e["before"]["status"], e["after"]["status"]) for e in detail["audit"]] == [
        (OPERATOR, "open", "closed")]
