"""Scheduled reconciliation on the SAP S/4HANA and Oracle Fusion rows of the matrix: their connectors read order
lines too (`order_lines`), so an order line changed in the ERP behind the hub's back is found with the diff."""

from __future__ import annotations

from typing import Any

import pytest
from erp_rows import ROWS, sales_orders
from matrix import MatrixDeal, activate
from matrix_rows import row_fixtures
from test_reconciliation import reconciliation_exceptions

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


row, stack_parameters = row_fixtures(ROWS)


def change_erp_quantity(hub: Any, row: Any, order: dict[str, Any], sku: str, quantity: int) -> None:
    """The ERP's own screen changes the line: the record is rewritten, under its key, through the control API."""
    if row.erp == "sap":
        for item in order["to_Item"]:
            if item["Material"] == sku:
                item["RequestedQuantity"] = str(quantity)
        hub.sandbox.seed("sap", "A_SalesOrder", {**order, "id": order["SalesOrder"]})
        return
    for line in order["lines"]:
        if line["ProductNumber"] == sku:
            line["OrderedQuantity"] = quantity
    hub.sandbox.seed("oracle", "salesOrdersForOrderHub", {**order, "id": str(order["HeaderId"])})


def test_drift_in_the_erp_is_found_once(hub, row):
    deal = MatrixDeal("ReconErp", row.crm)
    assert activate(hub, deal)["status"] == "SUCCEEDED"
    change_erp_quantity(hub, row, sales_orders(hub, row, deal)["LE-US"], "PLATFORM-ENT", 90)
    for day in ("2099-03-01", "2099-03-02"):
        report = hub.stack.invoke("ReconcilerFunction", {"source": "aws.events", "detail-type": "Scheduled Event",
                                                         "time": f"{day}T02:00:00Z", "detail": {}})
        assert report["status"] == "completed" and report["failed"] == 0, report
    (exception,) = reconciliation_exceptions(hub, deal.opportunity_id)
    assert exception["detail"]["mismatch"] == {"contract_id": deal.opportunity_id, "entity": "LE-US",
                                               "sku": "PLATFORM-ENT", "field": "quantity", "contract": "100",
                                               "billing": "100", "erp": "90"}
