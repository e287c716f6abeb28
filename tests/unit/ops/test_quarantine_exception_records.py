"""A quarantined webhook's exception on moto's DynamoDB: opened once from the inbox stream whatever the
redeliveries, resolved once by the replay, and never opened after a replay that came before the stream record."""

from __future__ import annotations

import base64

from boto3.dynamodb.types import TypeSerializer

from erphub.errors import Transient
from erphub.operations import inbox, kinds, quarantine_exceptions
from erphub.publishing import UNPUBLISHABLE_KIND
from erphub.store.workflow_state import WorkflowStore

KEY = "salesforce#04l5g000000BRoKAAW"
ITEM = {"pk": KEY, "source": "salesforce", "source_event_id": "04l5g000000BRoKAAW", "status": "quarantined",
        "vendor_type": "Opportunity", "event_id": "evt-1", "correlation_id": "webhook:salesforce:04l5g",
        "received_at": "2026-12-01T10:00:00+00:00", "reason": "Legal_Entities__c is not JSON", "raw_body": b"<x/>"}


def record(item: dict = ITEM, event: str = "INSERT") -> dict:
    """As Lambda delivers it: a binary attribute comes base64-encoded as text."""
    serializer = TypeSerializer()
    image = {k: {"B": base64.b64encode(v).decode()} if isinstance(v, bytes) else serializer.serialize(v)
             for k, v in item.items()}
    return {"eventName": event, "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"pk": {"S": item["pk"]}}, "NewImage": image}}


def test_a_quarantine_insert_opens_one_owned_exception_with_an_sla(tables):
    # Given the stream delivers the quarantined item's INSERT twice (at least once)
    first = quarantine_exceptions.on_inbox_record(record())
    again = quarantine_exceptions.on_inbox_record(record())
    # Then one exception is open, owned and timed by its kind, found in the inbox by the webhook's key
    assert first == again == quarantine_exceptions.exception_id(KEY)
    [view] = inbox.listing(inbox.Filters(kind="quarantine"))
    assert (view.owner, view.sla_seconds, view.actions) == ("integration-ops", 14400, ["replay", "abandon"])
    assert view.status == "open" and view.reason == ITEM["reason"] and view.business_ids == {"webhook": KEY}
    assert kinds.of("quarantine").title == "Webhook quarantined"
    assert [v.exception_id for v in inbox.listing(inbox.Filters(business_id=KEY))] == [first]


def test_only_inserts_of_quarantined_items_open_one(tables):
    assert quarantine_exceptions.on_inbox_record(record({**ITEM, "status": "accepted"})) is None
    assert quarantine_exceptions.on_inbox_record(record(event="MODIFY")) is None  # the outbox's: its own kind
    assert inbox.listing(inbox.Filters()) == []
    assert quarantine_exceptions.is_quarantine_insert(record())
    assert not quarantine_exceptions.is_quarantine_insert(record({"pk": "EXC#x", "status": "open"}))


def test_the_publisher_opens_them_in_stream_order_and_stops_at_the_first_it_could_not_open(tables, monkeypatch):
    # Given a batch: accepted, quarantined, accepted, quarantined (whose exception cannot be written now), accepted
    def numbered(item: dict, n: int) -> dict:
        found = record(item)
        found["dynamodb"]["SequenceNumber"] = str(n)
        return found

    second = {**ITEM, "pk": "salesforce#2", "source_event_id": "2"}
    batch = [numbered({**ITEM, "status": "accepted", "pk": "a#1"}, 1), numbered(ITEM, 2),
             numbered({**ITEM, "status": "accepted", "pk": "a#3"}, 3), numbered(second, 4),
             numbered({**ITEM, "status": "accepted", "pk": "a#5"}, 5)]
    opened = quarantine_exceptions.on_inbox_record

    def flaky(found: dict) -> str | None:
        if found["dynamodb"]["SequenceNumber"] == "4":
            raise Transient("dynamodb throttled")
        return opened(found)

    monkeypatch.setattr(quarantine_exceptions, "on_inbox_record", flaky)
    to_publish, failed_at = quarantine_exceptions.report_quarantined(batch)
    # Then the first quarantine is opened, the accepted items before the failure are published, the stream
    # retries from the failure
    assert [r["dynamodb"]["SequenceNumber"] for r in to_publish] == ["1", "3"] and failed_at == "4"
    assert [v.business_ids["webhook"] for v in inbox.listing(inbox.Filters(kind="quarantine"))] == [KEY]
    monkeypatch.setattr(quarantine_exceptions, "on_inbox_record", opened)
    to_publish, failed_at = quarantine_exceptions.report_quarantined(batch)  # the retry: opens nothing twice
    assert len(to_publish) == 3 and failed_at is None
    assert len(inbox.listing(inbox.Filters(kind="quarantine"))) == 2


def test_the_replay_resolves_it_once(tables):
    quarantine_exceptions.on_inbox_record(record())
    before = quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (corrected) by ann", "ann")
    assert before is not None and before["status"] == "open"
    assert quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (corrected) by bob", "bob") is None
    resolved = WorkflowStore().exception(quarantine_exceptions.exception_id(KEY))
    assert (resolved["status"], resolved["resolution"], resolved["resolved_by"]) == (
        "closed", "replayed (corrected) by ann", "ann")


def test_a_replay_before_the_stream_record_leaves_nothing_to_open_later(tables):
    assert quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (renormalized) by ann", "ann") is None
    quarantine_exceptions.on_inbox_record(record())  # the stream record arrives late
    [view] = inbox.listing(inbox.Filters())
    assert view.status == "resolved" and view.actions == []


def test_a_replay_of_an_item_the_outbox_quarantined_resolves_its_unpublishable_exception(tables):
    store = WorkflowStore()
    opened = store.open_exception(ITEM["correlation_id"], "outbox", UNPUBLISHABLE_KIND, "too large",
                                  seed=f"outbox:{KEY}", detail={"inbox_key": KEY})
    before = quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (corrected) by ann", "ann")
    assert before is not None and before["exception_id"] == opened
    assert store.exception(opened)["status"] == "closed"
    assert [v.kind for v in inbox.listing(inbox.Filters())] == [UNPUBLISHABLE_KIND]  # no quarantine one besides
