"""crm.fetch_deal: a HubSpot deal is read from the CRM it came from, with the webhook's company as a hint."""

import pytest

from erphub.canonical import Account, Contract
from erphub.errors import Permanent
from erphub.workflows.actions import crm as crm_actions
from erphub.workflows.run import Run


class FakeHubSpot:
    system = "hubspot"

    def __init__(self):
        self.asked = []

    def fetch_deal(self, deal_id, company_hint=""):
        self.asked.append((deal_id, company_hint))
        return Contract(contract_id="1821", version=2, currency="USD", previous_contract_id="1820",
                        account=Account(account_id="9812", name="Acme", external_ids={"hubspot": "9812"}))


def _run(source: str = "hubspot") -> Run:
    contract = {"kind": "contract", "contract_id": "1825", "version": 1, "account": {"account_id": "9812", "name": ""}}
    envelope = {"event_id": "e1", "type": "crm.opportunity.amended", "source": source, "source_event_id": "p:1",
                "occurred_at": "2024-09-02T09:15:00Z", "correlation_id": "c1", "business_key": "1825",
                "version": "1", "data": contract}
    return Run(action="crm.fetch_deal", workflow="amendment", state={"event": envelope})


def test_the_fetched_deal_replaces_the_webhooks_thin_contract(monkeypatch):
    crm = FakeHubSpot()
    monkeypatch.setattr(crm_actions, "connector", lambda kind: crm)
    result = crm_actions.fetch_deal(_run())
    assert crm.asked == [("1825", "9812")]  # the deal of the event, the company the webhook named
    assert Contract.model_validate(result).contract_id == "1821" and result["version"] == 2


def test_a_deal_from_another_crm_than_the_configured_one_is_refused(monkeypatch):
    monkeypatch.setattr(crm_actions, "connector", lambda kind: FakeHubSpot())
    with pytest.raises(Permanent, match="salesforce deal cannot be read from CRM_VENDOR=hubspot"):
        crm_actions.fetch_deal(_run("salesforce"))
