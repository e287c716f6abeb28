"""An amendment billed by Zuora and reconciled against the ERP on the local stack: seats up for one entity, a module
added for the other, the billing frequency changed, on the two-currency deal with usage overage in each entity.
Matrix row 3's amendment: Salesforce + Zuora + Gainsight + Dynamics 365."""

from __future__ import annotations

import pytest
from deals import TwoCurrencyDeal
from flows import correlation, seed_crm, send_deal
from matrix_rows import SEATS_UP
from test_changes import amend
from test_matrix_zuora import charges, zuora_subscriptions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return {"BillingVendor": "zuora", "ErpVendor": "dynamics"}


def test_an_amendment_changes_zuora_by_orders_and_reconciles_with_the_erp(hub):
    # Given an activated two-currency deal with usage overage in each entity
    deal = TwoCurrencyDeal("Matrix3Amend")
    seed_crm(hub, deal)
    send_deal(hub, deal)
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    # When the amendment closes: +50 US seats, analytics for the German entity, billed quarterly from now on
    execution = amend(hub, deal, 2, SEATS_UP, Billing_Frequency__c="Quarterly")
    # Then Zuora holds the change on the same two subscriptions, every charge on the new period
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    subs = zuora_subscriptions(hub, deal)
    us, de = charges(subs["LE-US"]), charges(subs["LE-DE"])
    assert us["PLATFORM-ENT"]["quantity"] == 150 and de["ANALYTICS"]["quantity"] == 20
    assert {c["billingPeriod"] for c in (*us.values(), *de.values())} == {"Quarter"}
    # the usage charges kept their terms and took no quantity
    assert (de["API-CALLS"]["includedUnits"], de["API-CALLS"]["overagePrice"]) == (2_000_000, 0.00037)
    assert "quantity" not in us["API-CALLS"] and "quantity" not in de["API-CALLS"]
    # And reconciliation matched billing against the ERP, metered items included, with no exception raised
    entered = hub.states_entered(execution["executionArn"])
    assert "Reconcile" in entered and "RaiseReconciliationException" not in entered
    assert hub.store().status(correlation(deal))["status"] == "completed"
