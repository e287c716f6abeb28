"""One local stack of the real template.yaml per module, driven over HTTP; only the ingest path runs (the
queues' consumers are held, so nothing downstream competes for the two cores)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.fuzz import hold_consumers, inbox_reader

from local.stack import HubStack

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", sandbox=False) as running:
        hold_consumers(running)
        yield running


@pytest.fixture(scope="module")
def gateway(stack) -> str:
    return stack.endpoints["gateway"]


@pytest.fixture(scope="module")
def inbox_event_ids(stack):
    """The event ids of every inbox item, read consistently."""
    return inbox_reader(stack)
