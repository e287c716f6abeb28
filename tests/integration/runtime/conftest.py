"""One local stack of the TEST-ONLY template per test module: moto is one per process, and a worker runs
modules one after another (make test distributes by file), so module scope never overlaps another stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.stack import HubStack

APP = Path(__file__).resolve().parent / "app"
TEMPLATE = APP / "template.yaml"


@pytest.fixture(scope="module")
def stack():
    with HubStack(TEMPLATE, schedule_speedup=60, sandbox=False) as running:
        yield running


@pytest.fixture
def collect(stack):
    """collect(queue, predicate, count): the messages of a queue that satisfy predicate, once there are count."""

    def collect(queue: str, predicate, count: int, timeout: float = 10.0) -> list:
        found: list = []

        def enough() -> bool:
            found.extend(m for m in stack.receive_all(queue) if predicate(m))
            return len(found) >= count

        stack.wait_until(enough, timeout=timeout)
        return found

    return collect
