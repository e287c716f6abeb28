"""A data fix goes to the system that masters the field (issue 9): on the local stack, over the operator API, the
fix of a deal's tax id is written to the Salesforce opportunity in the vendor sandbox (through its published
contract) before the activation resumes with it; a field the hub cannot write there is refused with the way to
fix it in the CRM, and after a person changed the opportunity in Salesforce, `erphub ops reread` picks up the new
value."""

from __future__ import annotations

import json

import pytest
import test_ops_operator_day as day
from deals import Deal
from flows import erp_customers, send_deal, subscriptions
from test_ops_operator_day import assert_audited, find

from erphub_cli import ops as ops_cli
from erphub_cli.client import OpsError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ops = day.ops  # the operator's API client fixture, registered in this module by name


def untaxed_deal(hub, label: str) -> Deal:
    """A deal whose German entity has no tax id, as the opportunity also holds it in Salesforce."""
    deal = Deal(label)
    deal.entities[1]["tax_id"] = None
    hub.sandbox.seed("salesforce", "Account", {"Id": deal.account_id, "Name": deal.name, "OwnerId": "005OWNER"})
    hub.sandbox.seed("salesforce", "Opportunity", deal.fields())
    send_deal(hub, deal)
    return deal


def opportunity(hub, deal: Deal) -> dict:
    [found] = [o for o in hub.records("salesforce", "Opportunity") if o["Id"] == deal.opportunity_id]
    return found


def tax_ids_in_salesforce(hub, deal: Deal) -> list:
    return [e.get("tax_id") for e in json.loads(opportunity(hub, deal)["Legal_Entities__c"])]


def test_a_fix_is_written_to_the_crm_opportunity_before_the_activation_resumes_with_it(hub, ops):
    # Given a deal held at the data-quality gate: no tax id for LE-DE, in the hub and in Salesforce
    deal = untaxed_deal(hub, "MasterFix")
    summary = find(hub, ops, deal, "data_quality")
    assert summary["actions"] == ["fix", "reread", "abandon"]
    assert tax_ids_in_salesforce(hub, deal) == [deal.entities[0]["tax_id"], None]
    # When the operator sets it
    entities = ops.get(f"/exceptions/{summary['exception_id']}")["payload"]["data"]["account"]["legal_entities"]
    entities[1]["tax_id"] = "DE811907980"
    done = ops.post(f"/exceptions/{summary['exception_id']}/fix",
                    {"changes": {"account": {"legal_entities": entities}}, "note": "from the signed order form"})
    # Then Salesforce, the master, holds it; the activation completed with it; the diff says where it went
    assert tax_ids_in_salesforce(hub, deal) == [deal.entities[0]["tax_id"], "DE811907980"]
    [change] = done["outcome"]["diff"]
    assert change == {"field": "account.legal_entities[1].tax_id", "before": None, "after": "DE811907980",
                      "master": "crm", "written_to": "salesforce"}
    assert done["outcome"]["master_write"]["fields"] == ["Legal_Entities__c"]
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert {c.get("vatRegNumber") for c in erp_customers(hub, deal)} >= {"DE811907980"}
    assert len(erp_customers(hub, deal)) == 2 and len(subscriptions(hub, deal)) == 2
    detail = assert_audited(ops, summary["exception_id"], "fix", "from the signed order form")
    [entry] = detail["audit"]
    assert entry["outcome"]["diff"] == [change]
    # every request the connector sent met Salesforce's published contract
    assert [v for v in hub.sandbox.violations if v.startswith("salesforce")] == []


def test_a_field_the_hub_cannot_write_is_fixed_in_the_crm_and_reread(hub, ops, monkeypatch, capsys):
    # Given a deal held at the data-quality gate
    deal = untaxed_deal(hub, "MasterThere")
    summary = find(hub, ops, deal, "data_quality")
    # When the operator tries to change the deal's currency, which the hub does not write to Salesforce
    with pytest.raises(OpsError) as refused:
        ops.post(f"/exceptions/{summary['exception_id']}/fix", {"changes": {"currency": "EUR"}})
    # Then nothing is written or resumed, and the operator is told to change it in Salesforce and re-read
    assert refused.value.status == 422 and "change it in salesforce" in str(refused.value)
    assert f"erphub ops reread {summary['exception_id']}" in str(refused.value)
    assert ops.get(f"/exceptions/{summary['exception_id']}")["status"] == "open"
    assert tax_ids_in_salesforce(hub, deal)[1] is None
    # A re-read before anyone changed Salesforce changes nothing and keeps the exception open
    with pytest.raises(OpsError) as unchanged:
        ops.post(f"/exceptions/{summary['exception_id']}/reread", {})
    assert unchanged.value.status == 422 and "still holds" in str(unchanged.value)
    # When a person fixes the opportunity in Salesforce, and the operator re-reads it
    deal.entities[1]["tax_id"] = "DE129273398"
    hub.sandbox.seed("salesforce", "Opportunity", {**opportunity(hub, deal),
                                                   "Legal_Entities__c": json.dumps(deal.entities)})
    monkeypatch.setenv("ERPHUB_OPS_TOKEN", ops.token)  # `erphub ops` as a CI job signs in
    monkeypatch.setenv("ERPHUB_OPS_URL", ops.url)
    code = ops_cli.main(["reread", summary["exception_id"], "--note", "RevOps fixed it in Salesforce"])
    printed = capsys.readouterr().out
    # Then the hub picked up Salesforce's value: the diff, the ERP customer, the completed activation, the audit
    assert code == 0 and "resolved — re-read from salesforce by" in printed
    assert "account.legal_entities[1].tax_id: None -> 'DE129273398' (mastered by crm)" in printed
    done = ops.get(f"/exceptions/{summary['exception_id']}")
    assert {"field": "account.legal_entities[1].tax_id", "before": None, "after": "DE129273398",
            "master": "crm"} in done["outcome"]["diff"]
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert {c.get("vatRegNumber") for c in erp_customers(hub, deal)} >= {"DE129273398"}
    assert len(subscriptions(hub, deal)) == 2
    assert_audited(ops, summary["exception_id"], "reread", "RevOps fixed it in Salesforce")


def test_the_operator_api_and_the_crm_adapter_called_only_what_their_policies_allow(hub, ops):
    """Last in the module: the fixes above went through the CRM adapter (lambda:InvokeFunction), as allowed."""
    from tools import iam_audit

    findings = [f for f in iam_audit.audit(hub.stack) if f.function in ("OpsApiFunction", "CrmAdapterFunction")]
    assert findings == []
    called = {c.operation for f, calls in hub.stack.aws_calls.items() if f == "OpsApiFunction" for c in calls}
    assert "Invoke" in called
