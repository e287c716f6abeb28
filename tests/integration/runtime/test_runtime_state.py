"""HubStack(state_dir=...) keeps the tables across a stop and a start, and one directory serves one stack
(tests/e2e/test_state_survives.py does the same with `erphub up`, the sandbox, and a kill -9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local import state
from local.stack import HubStack

TEMPLATE = Path(__file__).resolve().parent / "app" / "template.yaml"

pytestmark = pytest.mark.integration


def test_tables_survive_a_stop_and_a_start_and_the_directory_is_one_stacks(tmp_path):
    kept = tmp_path / "state"
    # Given a stack keeping its state, with an item written and a binary attribute
    with HubStack(TEMPLATE, sandbox=False, runtime=False, preload=False, state_dir=kept) as first:
        assert first.state_report == [f"kept in {kept}"]
        table = first.physical("ItemsTable")
        first.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "kept-1"}, "raw": {"B": b"\x00\xff"}})
        # And no second stack may use the same directory meanwhile
        with pytest.raises(state.StateInUse):
            state.StateDir(kept).claim()
    # When a stack starts again on the same directory
    with HubStack(TEMPLATE, sandbox=False, runtime=False, preload=False, state_dir=kept) as second:
        # Then it says the last run stopped cleanly and restored the item, bytes and all
        assert any("stopped cleanly" in line for line in second.state_report)
        assert any(line.startswith("restored: 1 table items") for line in second.state_report)
        item = second.client("dynamodb").get_item(TableName=second.physical("ItemsTable"),
                                                  Key={"pk": {"S": "kept-1"}})["Item"]
        assert item["raw"] == {"B": b"\x00\xff"}


def test_without_a_directory_the_stack_says_its_state_is_in_memory_only():
    with HubStack(TEMPLATE, sandbox=False, runtime=False, preload=False) as stack:
        assert stack.state_report[0].startswith("in memory only")
        assert stack.keeper is None
