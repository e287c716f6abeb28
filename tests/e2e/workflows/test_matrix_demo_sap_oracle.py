"""`erphub up --crm hubspot --billing stripe --erp sap` (and `--crm salesforce --billing chargebee --erp oracle`),
then `erphub demo`: the scenarios of local/scenarios/ run on each ERP row, on a stack of their own since their checks
count what the stack holds; at the end the ERP holds one customer per entity, four orders all closed, a forecast."""

from __future__ import annotations

from pathlib import Path

import pytest
from erp_rows import ROWS, all_customers, closed, erp_customers, sales_orders
from matrix import MatrixDeal
from matrix_rows import row_fixtures, run_demo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
# the scenarios' own ids: (account, contract, renewal) per CRM
IDS = {"hubspot": ("9812345601", "18213454561", "18213454566"),
       "salesforce": ("0015g00000AbCdEAAZ", "0065g00000XyZ1AAA", "0065g00000XyZ6AAA")}


row, stack_parameters = row_fixtures(ROWS)


def test_the_demo_runs_on_the_erp_row_and_leaves_the_erp_books_expected(hub, row):
    # Given the stack of the row, When the demo runs every scenario
    run_demo(hub)
    # Then the ERP holds one customer per entity and the contract's and the renewal's orders, all closed
    deal = MatrixDeal("Acme Robotics", row.crm)
    deal.account_id, deal.opportunity_id, renewal = IDS[row.crm]
    deal.entities = [{"entity_id": "LE-US", "subsidiary": "US01", "name": "Acme Robotics Inc."},
                     {"entity_id": "LE-DE", "subsidiary": "DE01", "name": "Acme Robotics GmbH"}]
    orders = {**sales_orders(hub, row, deal), **{f"renewal {e}": o for e, o in sales_orders(
        hub, row, deal, renewal).items()}}
    assert len(orders) == 4 and all(closed(row, o) for o in orders.values()), orders
    assert sorted(erp_customers(hub, row, deal)) == ["LE-DE", "LE-US"] and all_customers(hub, row, deal) == 2
    # and the renewal-risk signal of scenario (c) updated the ERP's forecast (one record, not one per delivery)
    forecasts = hub.records("sap", "YY1_ERPHUBFORECAST") if row.erp == "sap" else hub.records("oracle",
                                                                                               "ErphubForecast_c")
    assert len(forecasts) >= 1 and len({f.get("ExternalID") or f.get("RecordName") for f in forecasts}) == len(
        forecasts)
