"""A data fix goes to the CRM that masters it, on a HubSpot stack (issue 9): the fixed legal entities are written
to the deal's `erphub_legal_entities` property in the sandbox's HubSpot (CRM objects API v3 PATCH, property values
as strings, as its published contract says), and a value a person changed in HubSpot is picked up by `reread`
(the deal read again as the workflow's FetchDeal reads it)."""

from __future__ import annotations

import json

import matrix
import pytest
import test_ops_operator_day as day
from deals import annual_deal_items
from test_ops_operator_day import assert_audited

from erphub_cli.client import OpsError

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ops = day.ops  # the operator's API client fixture, registered in this module by name
ROW = matrix.ROWS[1]  # hubspot, chargebee, gainsight, dynamics


@pytest.fixture(scope="module")
def stack_parameters() -> dict[str, str]:
    return ROW.parameters()


def held_deal(hub, ops, label: str) -> tuple[matrix.MatrixDeal, dict]:
    """A HubSpot deal whose German entity has no tax id, waiting at the data-quality gate."""
    deal = matrix.MatrixDeal(label, "hubspot")
    deal.entities[1]["tax_id"] = None
    hub.sandbox.seed("hubspot", "companies", {"id": deal.account_id, "name": deal.name, "domain": f"{deal.n}.example"})
    matrix._hubspot(hub, deal, deal.opportunity_id, deal.opportunity_id, 1, annual_deal_items(), "closedwon", {})
    summary = hub.stack.wait_until(lambda: next(iter(ops.get("/exceptions", kind="data_quality", status="open",
                                                             business_id=deal.opportunity_id)), None),
                                   timeout=30, interval=0.2)
    return deal, summary


def hubspot_tax_ids(hub, deal: matrix.MatrixDeal) -> list:
    [record] = [d for d in hub.records("hubspot", "deals") if d["id"] == deal.opportunity_id]
    return [e.get("tax_id") for e in json.loads(record["properties"]["erphub_legal_entities"])]


def test_a_fix_is_written_to_the_hubspot_deal_and_the_activation_completes_with_it(hub, ops):
    deal, summary = held_deal(hub, ops, "HsMasterFix")
    entities = ops.get(f"/exceptions/{summary['exception_id']}")["payload"]["data"]["account"]["legal_entities"]
    entities[1]["tax_id"] = "DE813495425"
    done = ops.post(f"/exceptions/{summary['exception_id']}/fix",
                    {"changes": {"account": {"legal_entities": entities}}, "note": "per the order form"})
    assert hubspot_tax_ids(hub, deal) == [deal.entities[0]["tax_id"], "DE813495425"]
    assert done["outcome"]["master_write"] == {"system": "hubspot", "record": f"deal/{deal.opportunity_id}",
                                               "fields": ["erphub_legal_entities"]}
    assert [c["written_to"] for c in done["outcome"]["diff"]] == ["hubspot"]
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert len(matrix.erp_customers(hub, ROW, deal)) == 2
    assert [v for v in hub.sandbox.violations if v.startswith("hubspot")] == []
    assert_audited(ops, summary["exception_id"], "fix", "per the order form")


def test_hubspot_line_items_are_fixed_in_hubspot_and_reread(hub, ops):
    deal, summary = held_deal(hub, ops, "HsMasterThere")
    # Line items are HubSpot records of their own: the hub does not rewrite them, it says where to fix them
    with pytest.raises(OpsError) as refusal:
        ops.post(f"/exceptions/{summary['exception_id']}/fix", {"changes": {"items": []}})
    assert refusal.value.status == 422 and "change it in hubspot" in str(refusal.value)
    # A person sets the tax id in HubSpot; the operator re-reads the deal from there
    hubspot = hub.sandbox.vendors["hubspot"]
    with hubspot.lock:
        properties = hubspot.table("deals")[deal.opportunity_id]["properties"]
        entities = json.loads(properties["erphub_legal_entities"])
        entities[1]["tax_id"] = "DE118645675"
        properties["erphub_legal_entities"] = json.dumps(entities)
    done = ops.post(f"/exceptions/{summary['exception_id']}/reread", {"note": "fixed in HubSpot"})
    assert {"field": "account.legal_entities[1].tax_id", "before": None, "after": "DE118645675",
            "master": "crm"} in done["outcome"]["diff"]
    assert hub.execution("activation", deal.opportunity_id)["status"] == "SUCCEEDED"
    assert_audited(ops, summary["exception_id"], "reread", "fixed in HubSpot")
