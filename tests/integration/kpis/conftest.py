"""One local stack of the real template.yaml per test module, and the environment an operator function gets
(tests/operator_env.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.operator_env import operator_environment

from local.stack import HubStack

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", sandbox=False) as running:
        yield running


@pytest.fixture
def operator(stack, hub_settings):
    """The operator function's environment, pointed at the local stack (as the CLI's in-process calls are)."""
    hub_settings(**operator_environment(stack))
    return stack
