"""The console's "fix it there" path in a real browser (issue 9): a data-quality exception whose field the hub
cannot write to the CRM is fixed in Salesforce by a person; the operator presses `reread` on the exception page,
the hub reads the opportunity again and the activation completes with Salesforce's value. Screenshots under
test-output/console/."""

from __future__ import annotations

import json

import console_browser
import pytest
from deals import Deal
from flows import erp_customers, send_deal, subscriptions
from test_ops_console import act, audited, open_exception

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
browser, api, page = console_browser.browser, console_browser.api, console_browser.page
SHOTS = console_browser.SHOTS


def test_a_value_fixed_in_salesforce_is_reread_from_the_console(hub, api, page):
    # Given a deal held at the data-quality gate, as Salesforce also holds it (no tax id for LE-DE)
    deal = Deal("WebReread")
    deal.entities[1]["tax_id"] = None
    hub.sandbox.seed("salesforce", "Opportunity", deal.fields())
    send_deal(hub, deal)
    exception_id = open_exception(hub, api, page, deal, "data_quality", "reread")
    # When a person fixes the opportunity in Salesforce and the operator presses reread
    deal.entities[1]["tax_id"] = "DE260543043"
    [record] = [o for o in hub.records("salesforce", "Opportunity") if o["Id"] == deal.opportunity_id]
    hub.sandbox.seed("salesforce", "Opportunity", {**record, "Legal_Entities__c": json.dumps(deal.entities)})
    flashed = act(page, "reread", "reread", note="fixed in Salesforce by RevOps")
    assert flashed.startswith("reread: re-read from salesforce")
    # Then the page shows what Salesforce changed, and the activation completed with it
    outcome = page.text_content("#outcome")
    assert '"account.legal_entities[1].tax_id"' in outcome and '"DE260543043"' in outcome
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert {c.get("vatRegNumber") for c in erp_customers(hub, deal)} >= {"DE260543043"}
    assert len(subscriptions(hub, deal)) == 2
    assert audited(api, exception_id, "reread")["note"] == "fixed in Salesforce by RevOps"
