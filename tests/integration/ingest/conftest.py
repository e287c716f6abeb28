"""One local stack of the real template.yaml per test module (moto state is per process)."""

from pathlib import Path

import pytest

from local.stack import HubStack

ROOT = Path(__file__).resolve().parents[3]


# queues whose consumers are held so tests can read what the rules delivered
OBSERVED_QUEUES = ("RenewalRiskQueue", "ErpPostingQueue")


@pytest.fixture(scope="module")
def stack():
    with HubStack(ROOT / "template.yaml", sandbox=False) as running:
        for queue in OBSERVED_QUEUES:
            running.pause_consumers(queue)
        yield running


@pytest.fixture(scope="module")
def gateway(stack) -> str:
    return stack.endpoints["gateway"]


@pytest.fixture
def inbox_items(stack):
    """Every item of the inbox table, read consistently."""

    def scan() -> list[dict]:
        table, items, request = stack.physical("InboxTable"), [], {}
        while True:
            page = stack.client("dynamodb").scan(TableName=table, ConsistentRead=True, **request)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            request = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    return scan
