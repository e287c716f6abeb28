"""Archive replay of one event type over a time window re-delivers, through the stack's own rules, exactly the
archived events of that window to the rules that route that type; and the outbox sweep runs on demand."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from erphub import publishing
from erphub.errors import ValidationFailed
from erphub.store.inbox import ACCEPTED, InboxItem

pytestmark = pytest.mark.integration
ACTOR = "ops@example.com"
HELD = ("ActivationQueue", "ErpPostingIntakeQueue", "AmendmentQueue")


@pytest.fixture(scope="module", autouse=True)
def held(stack):
    for queue in HELD:
        stack.pause_consumers(queue)
    yield
    for queue in HELD:
        stack.pause_consumers(queue, paused=False)


def publish(stack, event_type: str, occurred_at: datetime) -> str:
    """A canonical event on the bus as the publisher puts it (its Time is the business event's occurred_at)."""
    event_id = str(uuid.uuid4())
    detail = {"event_id": event_id, "type": event_type, "occurred_at": occurred_at.isoformat(),
              "correlation_id": f"test:{event_id}", "business_key": event_id}
    response = stack.client("events").put_events(Entries=[{
        "EventBusName": stack.physical("EventBus"), "Source": publishing.EVENT_SOURCE, "DetailType": event_type,
        "Detail": json.dumps(detail), "Time": occurred_at}])
    assert response["FailedEntryCount"] == 0
    return event_id


def received(stack, queue: str, wait: float = 1.0) -> list[dict]:
    return stack.receive_all(queue, wait=wait)


def test_a_replay_redelivers_that_type_in_that_window_and_nothing_else(operator):
    from erphub.operations import archive

    # Given archived events: two closed-won deals (one inside the window, one a day before), an amendment and
    # a paid invoice inside it, all already delivered once
    window = datetime.now(UTC) - timedelta(hours=2)
    inside = publish(operator, "crm.opportunity.closed_won", window + timedelta(minutes=5))
    publish(operator, "crm.opportunity.closed_won", window - timedelta(days=1))
    publish(operator, "crm.opportunity.amended", window + timedelta(minutes=6))
    publish(operator, "billing.invoice.paid", window + timedelta(minutes=7))
    for queue in HELD:
        received(operator, queue)
    # When an operator replays closed-won deals of that hour
    replay = archive.replay("crm.opportunity.closed_won", window, window + timedelta(hours=1), actor=ACTOR)
    # Then the activation queue gets the one deal of the window again, marked as a replay, and no other queue
    # gets anything
    [again] = received(operator, "ActivationQueue")
    assert again["detail"]["event_id"] == inside and again["replay-name"] == replay.replay_name
    assert received(operator, "AmendmentQueue", wait=0.3) == []
    assert received(operator, "ErpPostingIntakeQueue", wait=0.3) == []
    assert replay.rules and replay.also_replays == [] and replay.actor == ACTOR
    assert archive.replay_status(replay.replay_name).state == "COMPLETED"


def test_a_type_routed_with_others_says_what_else_the_replay_carries(operator):
    from erphub.operations import archive

    window = datetime.now(UTC) - timedelta(days=3)
    paid = publish(operator, "billing.invoice.paid", window + timedelta(minutes=1))
    finalized = publish(operator, "billing.invoice.finalized", window + timedelta(minutes=2))
    received(operator, "ErpPostingIntakeQueue")
    replay = archive.replay("billing.invoice.paid", window, window + timedelta(minutes=10), actor=ACTOR)
    # EventBridge replays by rule, not by type: the ERP posting rule routes four types, all replayed
    assert "billing.invoice.finalized" in replay.also_replays
    assert {m["detail"]["event_id"] for m in received(operator, "ErpPostingIntakeQueue")} == {paid, finalized}


def test_a_replay_is_refused_when_nothing_routes_the_type_or_the_window_is_wrong(operator):
    from erphub.operations import archive

    now = datetime.now(UTC)
    with pytest.raises(ValidationFailed, match="no rule"):
        archive.replay("crm.account.updated", now - timedelta(hours=1), now, actor=ACTOR)
    with pytest.raises(ValidationFailed, match="window"):
        archive.replay("crm.opportunity.closed_won", now, now - timedelta(hours=1), actor=ACTOR)
    with pytest.raises(ValidationFailed, match="window"):
        archive.replay("crm.opportunity.closed_won", now - timedelta(days=40), now, actor=ACTOR)


def test_sweep_now_takes_even_fresh_items_and_quarantines_what_cannot_be_published(operator, monkeypatch):
    from erphub.operations import archive, quarantine

    # Given an accepted inbox item the stream path did not publish (it is malformed), received seconds ago
    monkeypatch.setattr(operator.scheduler, "fire", lambda name: None)
    event_id = uuid.uuid4().hex
    item = InboxItem(source="test", source_event_id=event_id, vendor_type="test", status=ACCEPTED, event_id=event_id,
                     correlation_id=f"test:{event_id}", received_at=datetime.now(UTC), raw_body=b"{}",
                     event_type="test.swept", event_json='{"type": "test.swept", "occurred_at": ')
    operator.client("dynamodb").put_item(TableName=operator.physical("InboxTable"), Item=item.to_item(14))
    # When an operator sweeps now (the schedule only takes items older than a minute)
    report = archive.sweep_now(actor=ACTOR)
    # Then the item is taken out of the backlog and quarantined for repair, with the operator named
    assert report.skipped >= 1 and report.complete and report.actor == ACTOR
    assert f"test#{event_id}" in [q.key for q in quarantine.list_quarantined(limit=100).items]
