"""What the vendor-matrix test modules share: one local stack per row, the amendment they all make, an activated
deal, and the demo run on a row's stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from matrix import MatrixDeal, Row, activate

from local.scenarios import Runner, scenario_files

ROOT = Path(__file__).resolve().parents[3]
# the amendment's lines: 50 more seats in the US, the analytics module added in Germany
SEATS_UP = [{"sku": "PLATFORM-ENT", "name": "Platform Enterprise", "quantity": 50, "unit_price": "1200.00",
             "legal_entity_id": "LE-US"},
            {"sku": "ANALYTICS", "name": "Analytics module", "quantity": 20, "unit_price": "240.00",
             "legal_entity_id": "LE-DE"}]


def row_fixtures(rows: list[Row]) -> tuple[Any, Any]:
    """The `row` and `stack_parameters` fixtures of a module: one stack per row, the vendors as stack parameters
    (as in samconfig). Bind both names in the module: `row, stack_parameters = row_fixtures(ROWS)`."""

    @pytest.fixture(scope="module", params=rows, ids=[r.id for r in rows])
    def row(request):
        return request.param

    @pytest.fixture(scope="module")
    def stack_parameters(row):
        return row.parameters()

    return row, stack_parameters


def activated(hub: Any, row: Row, label: str) -> MatrixDeal:
    deal = MatrixDeal(label, row.crm)
    execution = activate(hub, deal)
    assert execution["status"] == "SUCCEEDED", hub.states_entered(execution["executionArn"])
    return deal


def run_demo(hub: Any) -> list[str]:
    """Every demo scenario on the hub's stack; the runner's output lines (asserted to have succeeded)."""
    lines: list[str] = []
    runner = Runner(hub.gateway, hub.stack.client, dict(hub.stack.template.physical.items()), root=ROOT,
                    out=lines.append, sandbox=hub.stack.endpoints["sandbox"])
    assert runner.run_files(scenario_files(ROOT / "local" / "scenarios")), "\n".join(lines)
    return lines
