"""An event too large for EventBridge is not stuck: it travels by claim check and every consumer reads it back
(the workflow starter, each workflow action, the renewal-risk consumers), on the local stack."""

from __future__ import annotations

import json

import pytest
from deals import post
from flows import activate, crm_account, sales_orders, subscriptions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OVER_THE_BUS_LIMIT = 300_000  # characters of free text: the canonical event passes 256 KB


def test_a_closed_won_deal_over_the_bus_limit_is_activated_everywhere(hub):
    # Given a closed-won deal whose canonical event is over EventBridge's entry limit (a very long reason)
    # When Salesforce sends it, then the activation runs to the end
    deal, execution = activate(hub, "Bulky", Amendment_Reason__c="r" * OVER_THE_BUS_LIMIT)
    # And the execution carried the claim check, not the event (Step Functions takes 256 KB of input)
    started_with = json.loads(execution["input"])["event"]
    assert "claim_check" in started_with and "data" not in started_with
    # And every system holds the deal once
    assert len(subscriptions(hub, deal)) == 2 and len(sales_orders(hub, deal)) == 2
    assert crm_account(hub, deal)


def test_a_renewal_risk_signal_over_the_bus_limit_reaches_its_three_consumers(hub):
    deal, _ = activate(hub, "BulkyRisk")
    hub.sandbox.seed("salesforce", "Account", {**crm_account(hub, deal), "OwnerId": "005OWNER"})
    # Given a renewal-risk signal whose canonical event is over the bus limit, sent by Gainsight
    status, _ = post(hub.gateway, "gainsight", deal.gainsight(
        "renewal_risk_changed", riskLevel="High", healthScore=38, previousHealthScore=71,
        reason="Usage down. " + "u" * OVER_THE_BUS_LIMIT, renewalDate="2025-05-31"))
    assert status < 300
    # Then CRM, billing and ERP each react, as to any other signal
    hub.stack.wait_until(lambda: crm_account(hub, deal).get("Renewal_Risk__c") == "high", timeout=30)
    hub.stack.wait_until(lambda: {s.get("collection_method") for s in subscriptions(hub, deal)} == {"send_invoice"},
                         timeout=30)
    hub.stack.wait_until(lambda: [f for f in hub.records("netsuite", "customrecord_erphub_forecast")
                                  if f["externalId"].startswith(deal.account_id)], timeout=30)
