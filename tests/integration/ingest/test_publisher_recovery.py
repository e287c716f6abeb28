"""The bus failing for a while loses nothing and duplicates nothing; when the stream path gives up, the
record lands on the on-failure DLQ and the outbox sweeper still publishes it, once."""

import threading

import pytest
from botocore.exceptions import ClientError
from tests import webhooks

from erphub import aws

pytestmark = pytest.mark.integration


class FlakyBus:
    """EventBridge that refuses PutEvents while `down` is set, or for its next `refuse_next` calls."""

    def __init__(self, real_client) -> None:
        self.real_client, self.refused, self.refuse_next = real_client, 0, 0
        self.down = threading.Event()
        self.lock = threading.Lock()

    def put_events(self, **kwargs):
        with self.lock:
            refuse = self.down.is_set() or self.refuse_next > 0
            self.refuse_next = max(0, self.refuse_next - 1)
            self.refused += refuse
        if refuse:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "PutEvents")
        return self.real_client("events").put_events(**kwargs)  # made in the publisher's own environment


@pytest.fixture
def flaky_bus(monkeypatch):
    real_client = aws.client
    bus = FlakyBus(real_client)
    monkeypatch.setattr(aws, "client", lambda service: bus if service == "events" else real_client(service))
    return bus


def test_an_outage_then_recovery_loses_nothing_and_duplicates_nothing(stack, gateway, flaky_bus):
    # Given the bus refuses the next 8 publications (fewer than the stream's retries)
    flaky_bus.refuse_next = 8
    dlq_before = stack.queue_depth("PublisherFailureDLQ")
    # When five invoices arrive during the outage
    receipts = [webhooks.post(gateway, "stripe", webhooks.sample("stripe/invoice.paid.json")).json()
                for _ in range(5)]
    assert all(r.get("status") == "accepted" for r in receipts), receipts
    # Then once the bus is back each invoice reaches the ERP posting queue exactly once
    arrived = stack.receive_all("ErpPostingQueue", wait=15, count=5)
    ids = [m["detail"]["event_id"] for m in arrived]
    assert flaky_bus.refused == 8
    assert sorted(ids) == sorted(r["event_id"] for r in receipts)
    assert stack.receive_all("ErpPostingQueue", wait=1) == []
    assert stack.queue_depth("PublisherFailureDLQ") == dlq_before


def test_when_the_stream_gives_up_the_sweeper_publishes(stack, gateway, flaky_bus, monkeypatch):
    # (the 1-minute schedule holds off: this test runs the sweeper by hand and counts what that run publishes)
    monkeypatch.setattr(stack.scheduler, "fire", lambda name: None)
    # Given the bus stays down until the stream path gives up on a record
    flaky_bus.down.set()
    receipt = webhooks.post(gateway, "stripe", webhooks.sample("stripe/invoice.paid.json")).json()
    stack.wait_until(lambda: stack.queue_depth("PublisherFailureDLQ") >= 1, timeout=60)
    flaky_bus.down.clear()
    # When an operator runs the sweeper now (it also runs every minute)
    report = stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})
    # Then the event is published once and the item is marked published
    assert report["published"] >= 1
    arrived = stack.receive_all("ErpPostingQueue", wait=10, count=1)
    assert [m["detail"]["event_id"] for m in arrived] == [receipt["event_id"]]
    assert stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})["published"] == 0
