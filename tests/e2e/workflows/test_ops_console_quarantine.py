"""A quarantined webhook as an owned exception, in a real browser (issue 9): the operator finds it in the inbox
beside the other kinds, with its owner, follows it to the webhook on the Quarantine page, replays the corrected
fields there, and the exception shows resolved, once, with the replay in its audit trail. Screenshots under
test-output/console/."""

from __future__ import annotations

import json
import re

import console_browser
import pytest
from deals import Deal
from flows import sales_orders, seed_crm, subscriptions
from test_ops_console import show_only
from tests import webhooks as inbox_waits

from local import webhooks
from local.cognito_authorizer import dev_users

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
browser, api, page = console_browser.browser, console_browser.api, console_browser.page
SHOTS = console_browser.SHOTS
OPERATOR = dev_users()["operator"]["email"]


def test_a_quarantine_exception_is_found_in_the_inbox_and_resolved_by_its_replay(hub, api, page):
    from tests.e2e.test_recovery import corrected_contract

    # Given a closed-won deal Salesforce sent with broken legal entities: quarantined
    deal = Deal("WebQuarantineOwned")
    seed_crm(hub, deal)
    body = deal.outbound_message(Legal_Entities__c="[{broken")
    assert webhooks.post(hub.gateway, "salesforce", body)[0] == 200
    key = "salesforce#" + re.search(rb"<Id>(04l[^<]*)</Id>", body).group(1).decode()
    inbox_waits.mapped_key(hub.stack, key)  # the exception is opened, then the item marked quarantined
    [found] = hub.stack.wait_until(lambda: api.get("/exceptions", kind="quarantine", business_id=key),
                                   timeout=20, interval=0.2)
    # The operator finds it in the inbox, filtered by kind and the webhook's key, with its owner
    page.goto(page.url.split("#")[0] + "#/exceptions")
    page.select_option("form#filters select[name=kind]", "quarantine")
    page.fill("form#filters input[name=business_id]", key)
    page.click("form#filters button[type=submit]")
    show_only(page, found["exception_id"])
    assert "integration-ops" in page.text_content("table#exceptions tbody tr")
    page.screenshot(path=str(SHOTS / "quarantine-exception-inbox.png"), full_page=True)
    page.locator("table#exceptions tbody tr a").click()
    page.wait_for_selector("h1[data-status=open]")
    assert {f.get_attribute("data-action") for f in page.query_selector_all("form.action")} >= {"replay", "abandon"}
    page.screenshot(path=str(SHOTS / "quarantine-exception.png"), full_page=True)
    # When they follow it to the webhook and replay the corrected fields there
    page.click("a#webhook-link")
    page.wait_for_selector("h1[data-status=quarantined]")
    page.fill("form.action[data-action=replay] textarea[name=event]",
              json.dumps(corrected_contract(deal).model_dump(mode="json")))
    page.click("form.action[data-action=replay] button")
    page.wait_for_selector("#outcome")
    # Then the exception shows resolved by the replay, once, and the deal is activated once
    page.goto(page.url.split("#")[0] + f"#/exceptions/{found['exception_id']}")
    page.wait_for_selector("h1[data-status=resolved]")
    assert f"replayed (corrected) by {OPERATOR}" in page.text_content("dl.facts")
    assert page.evaluate("[...document.getElementById('main').childNodes].every(n => n.nodeType === 1)")  # no "null"
    assert page.query_selector_all("form.action") == []
    audit = page.text_content("table.audit")
    assert audit.count("replay") == 1 and OPERATOR in audit
    page.screenshot(path=str(SHOTS / "quarantine-exception-resolved.png"), full_page=True)
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
