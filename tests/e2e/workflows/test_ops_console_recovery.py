"""The console's recovery pages in a real browser (Debian's chromium, headless, Playwright) against the local stack:
a quarantined deal repaired with corrected fields and replayed, a dead-lettered ERP posting redriven with the
page's own button, the DLQ list and the deal's timeline — then the vendor sandbox's end state (one record per
business object) and the audit trail checked through the API. A screenshot of each page under
test-output/console/."""

from __future__ import annotations

import json
import re
import uuid

import console_browser
import pytest
from deals import Deal
from flows import erp_customers, sales_orders, seed_crm, send_deal, subscriptions
from tests import webhooks as inbox_waits

from local import webhooks
from local.cognito_authorizer import dev_users

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
# the shared fixtures (console_browser.py), registered in this module by name
browser, api, page = console_browser.browser, console_browser.api, console_browser.page
SHOTS = console_browser.SHOTS
OPERATOR = dev_users()["operator"]["email"]


@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return {"QueueRetryDelaySeconds": "1"}  # the ERP poster gives up after 4 receives: seconds, not minutes


def test_a_quarantined_deal_replayed_from_the_browser_is_activated_once(hub, api, page):
    from tests.e2e.test_recovery import corrected_contract

    # Given a closed-won deal Salesforce sent with broken legal entities: quarantined
    deal = Deal("WebQuarantine")
    seed_crm(hub, deal)
    body = deal.outbound_message(Legal_Entities__c="[{broken")
    status, answer = webhooks.post(hub.gateway, "salesforce", body)
    assert status == 200 and "<Ack>true</Ack>" in answer
    key = "salesforce#" + re.search(rb"<Id>(04l[^<]*)</Id>", body).group(1).decode()
    inbox_waits.mapped_key(hub.stack, key)  # quarantined by the publisher's mapping, just after the Ack
    # The operator finds it on the Quarantine page, with its reason, and opens its raw body
    page.click("nav a:text('Quarantine')")
    row = page.wait_for_selector(f"table#quarantine tr[data-key='{key}']")
    assert "Legal_Entities__c" in row.text_content()
    page.screenshot(path=str(SHOTS / "quarantine-list.png"), full_page=True)
    row.query_selector("a").click()
    page.wait_for_selector("h1[data-status=quarantined]")
    assert "[{broken" in page.text_content("#raw-body")
    page.screenshot(path=str(SHOTS / "quarantine-detail.png"), full_page=True)
    # When they re-normalize (still broken: refused, nothing changes), then replay the corrected fields as JSON
    page.click("form.action[data-action=renormalize] button")
    page.wait_for_selector("#flash.error")
    assert "still unmappable" in page.text_content("#flash")
    corrected = corrected_contract(deal).model_dump(mode="json")
    page.fill("form.action[data-action=replay] textarea[name=event]", json.dumps(corrected))
    page.click("form.action[data-action=replay] button")
    page.wait_for_selector("#outcome")
    assert "replayed" in page.text_content("#flash") and page.query_selector_all("form.action") == []
    page.screenshot(path=str(SHOTS / "quarantine-replayed.png"), full_page=True)
    # Then the deal is activated once: one record per business object in each vendor
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
    assert len(erp_customers(hub, deal)) == 2
    # And the deal's timeline page shows the replay by the operator before the activation
    page.click("nav a:text('Timeline')")
    page.fill("form#timeline-form input[name=id]", deal.opportunity_id)
    page.click("form#timeline-form button")
    page.wait_for_selector("table#timeline tr[data-kind=operator_action]")
    story = page.text_content("table#timeline")
    assert f"{OPERATOR}: quarantine.replay" in story and "execution succeeded" in story
    page.screenshot(path=str(SHOTS / "timeline.png"), full_page=True)


def test_a_dead_lettered_erp_posting_redriven_from_the_browser_posts_once(hub, api, page):
    from tests.e2e.test_recovery import stripe_invoice

    # Given an activated customer whose invoice arrives while NetSuite is down: the poster dead-letters it
    deal = Deal("WebRedrive")
    seed_crm(hub, deal)
    send_deal(hub, deal)
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    customer = next(c["id"] for c in hub.sandbox.records("stripe", "customer")
                    if str((c.get("metadata") or {}).get("erphub_key", "")) == f"{deal.account_id}:LE-US")
    invoice_id = f"in_{uuid.uuid4().hex[:16]}"
    dlq = hub.stack.physical("ErpPostingDLQ").rsplit("/", 1)[-1]
    hub.sandbox.faults.inject("netsuite", None, kind="503", times=100_000)
    try:
        assert webhooks.post(hub.gateway, "stripe", stripe_invoice(customer, invoice_id))[0] == 202
        letter = hub.stack.wait_until(lambda: next(
            (m for m in api.get(f"/dlqs/{dlq}/messages")["messages"] if invoice_id in m["body"] and m["exception_id"]),
            None), timeout=90, interval=0.5)
    finally:
        hub.sandbox.faults.clear()
    # The operator sees the DLQ's depth on the DLQs page, and the message with why it failed
    page.click("nav a:text('DLQs')")
    queue_row = page.wait_for_selector(f"table#dlqs tr[data-queue='{dlq}']")
    assert int(queue_row.query_selector_all("td")[1].text_content()) >= 1
    page.screenshot(path=str(SHOTS / "dlqs.png"), full_page=True)
    queue_row.query_selector("a").click()
    row = page.wait_for_selector(f"table#dead-letters tr[data-message-id='{letter['message_id']}']")
    assert letter["reason"]["error_type"] in row.text_content() and letter["exception_id"] in row.text_content()
    page.screenshot(path=str(SHOTS / "dlq-messages.png"), full_page=True)
    # When they redrive that one message
    row.query_selector("button[name=redrive-one]").click()
    page.wait_for_selector("#flash.ok")
    assert "redriven" in page.text_content("#flash")
    page.wait_for_selector(f"table#dead-letters tr[data-message-id='{letter['message_id']}']", state="detached")
    page.screenshot(path=str(SHOTS / "dlq-redriven.png"), full_page=True)
    # Then NetSuite holds the invoice once, its exception is resolved and the DLQ's audit trail names the operator
    posted = hub.stack.wait_until(lambda: [i for i in hub.sandbox.records("netsuite", "invoice")
                                           if invoice_id in json.dumps(i)], timeout=30, interval=0.2)
    assert len(posted) == 1
    assert api.get(f"/exceptions/{letter['exception_id']}")["status"] == "resolved"
    [entry] = [a for a in api.get(f"/runs/dlq:{dlq}")["audit"] if a["action"] == "dlq.redrive_one"]
    assert entry["actor"] == OPERATOR
    # A purge needs the queue's name typed: anything else is refused on the page
    page.fill("form.action[data-action=purge] input[name=confirm]", "yes")
    page.click("form.action[data-action=purge] button")
    page.wait_for_selector("#flash.error")
    assert "confirm with the queue name" in page.text_content("#flash")
