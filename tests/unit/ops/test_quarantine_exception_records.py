"""A quarantined webhook's exception on moto's DynamoDB: opened once by the publisher's mapping whatever the
redeliveries, resolved once by the replay, and never opened after a replay that came before the mapping."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from erphub import aws
from erphub.errors import Transient
from erphub.ingest import mapping
from erphub.operations import inbox, kinds, quarantine_exceptions
from erphub.publishing import UNPUBLISHABLE_KIND
from erphub.store.workflow_state import WorkflowStore

KEY = "salesforce#04l5g000000BRoKAAW"
ITEM = {"pk": KEY, "source": "salesforce", "source_event_id": "04l5g000000BRoKAAW", "status": "quarantined",
        "vendor_type": "Opportunity", "event_id": "evt-1", "correlation_id": "webhook:salesforce:04l5g",
        "received_at": "2026-12-01T10:00:00+00:00", "reason": "Legal_Entities__c is not JSON", "raw_body": b"<x/>"}


TEXTS = {k: v for k, v in ITEM.items() if isinstance(v, str)}
SAMPLES = Path(__file__).resolve().parents[3] / "events" / "hubspot"


def test_a_quarantined_webhook_opens_one_owned_exception_with_an_sla(tables):
    # Given the publisher settles the same quarantined item twice (a retried stream batch)
    first = quarantine_exceptions.open_for(TEXTS, ITEM["reason"])
    again = quarantine_exceptions.open_for(TEXTS, ITEM["reason"])
    # Then one exception is open, owned and timed by its kind, found in the inbox by the webhook's key
    assert first == again == quarantine_exceptions.exception_id(KEY)
    [view] = inbox.listing(inbox.Filters(kind="quarantine"))
    assert (view.owner, view.sla_seconds, view.actions) == ("integration-ops", 14400, ["replay", "abandon"])
    assert view.status == "open" and view.reason == ITEM["reason"] and view.business_ids == {"webhook": KEY}
    assert kinds.of("quarantine").title == "Webhook quarantined"
    assert [v.exception_id for v in inbox.listing(inbox.Filters(business_id=KEY))] == [first]


def received(sample: str, event_id: int, n: int) -> dict:
    """An inbox stream record of a HubSpot event the ack path stored (status received), as Lambda delivers it."""
    body = (SAMPLES / sample).read_bytes()
    key = f"hubspot#62515:{event_id}"
    item = {"pk": key, "source": "hubspot", "source_event_id": f"62515:{event_id}", "status": "received",
            "vendor_type": "deal.propertyChange", "event_id": f"evt-{n}", "correlation_id": f"event:hubspot:{n}",
            "received_at": datetime.now(UTC).isoformat()}
    image = {k: {"S": v} for k, v in item.items()} | {
        "raw_body": {"B": base64.b64encode(body).decode()}, "headers": {"M": {}}}
    return {"eventName": "INSERT",
            "dynamodb": {"Keys": {"pk": {"S": key}}, "NewImage": image, "SequenceNumber": str(n)}}


def test_the_publisher_maps_in_stream_order_and_stops_at_the_first_it_could_not_settle(tables, hub_settings,
                                                                                       monkeypatch):
    hub_settings(IDENTITY_TABLE="identity", WORKFLOW_TABLE="workflows", INBOX_TABLE="inbox")
    aws.client("dynamodb").create_table(TableName="inbox", BillingMode="PAY_PER_REQUEST",
                                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    # Given a batch: mappable, unmappable, mappable, unmappable (whose exception cannot be written now), mappable
    mappable, unmappable = ("deal.closedwon.json", 3816279341), ("deal.closedwon_without_company.json", 3816279402)
    batch = [received(*sample, n) for n, sample in enumerate(
        [mappable, unmappable, mappable, unmappable, mappable], start=1)]
    batch[3]["dynamodb"]["NewImage"]["pk"] = {"S": "hubspot#62515:other"}
    for record in batch:
        aws.client("dynamodb").put_item(TableName="inbox",
                                        Item={**record["dynamodb"]["NewImage"], "raw_body": {"B": b""}})
    opened = quarantine_exceptions.open_for

    def flaky(item: dict, reason: str) -> str:
        if item["pk"] == "hubspot#62515:other":
            raise Transient("dynamodb throttled")
        return opened(item, reason)

    monkeypatch.setattr(quarantine_exceptions, "open_for", flaky)
    to_publish, failed_at = mapping.pending_from_stream(batch)
    # Then the first quarantine is opened and its item marked, the mapped items before the failure are to be
    # published with their canonical events, and the stream retries from the failure
    assert [p.position for p in to_publish] == ["1", "3"] and failed_at == "4"
    assert all(p.published_item and p.published_item["event_type"]["S"] == "crm.opportunity.closed_won"
               for p in to_publish)
    assert [v.business_ids["webhook"] for v in inbox.listing(inbox.Filters(kind="quarantine"))] == [
        "hubspot#62515:3816279402"]
    monkeypatch.setattr(quarantine_exceptions, "open_for", opened)
    to_publish, failed_at = mapping.pending_from_stream(batch)  # the retry: opens nothing twice
    assert len(to_publish) == 3 and failed_at is None
    assert len(inbox.listing(inbox.Filters(kind="quarantine"))) == 2


def test_the_replay_resolves_it_once(tables):
    quarantine_exceptions.open_for(TEXTS, ITEM["reason"])
    before = quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (corrected) by ann", "ann")
    assert before is not None and before["status"] == "open"
    assert quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (corrected) by bob", "bob") is None
    resolved = WorkflowStore().exception(quarantine_exceptions.exception_id(KEY))
    assert (resolved["status"], resolved["resolution"], resolved["resolved_by"]) == (
        "closed", "replayed (corrected) by ann", "ann")


def test_a_replay_before_the_stream_record_leaves_nothing_to_open_later(tables):
    assert quarantine_exceptions.resolve_replayed(KEY, ITEM, "replayed (renormalized) by ann", "ann") is None
    quarantine_exceptions.open_for(TEXTS, ITEM["reason"])  # the publisher settles it late
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


def test_a_retried_record_of_a_webhook_replayed_since_changes_nothing(tables, hub_settings):
    hub_settings(IDENTITY_TABLE="identity", WORKFLOW_TABLE="workflows", INBOX_TABLE="inbox")
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="inbox", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    # Given an unmappable webhook the publisher quarantined
    [record] = [received("deal.closedwon_without_company.json", 3816279402, 1)]
    key = record["dynamodb"]["NewImage"]["pk"]["S"]
    ddb.put_item(TableName="inbox", Item={**record["dynamodb"]["NewImage"], "raw_body": {"B": b""}})
    assert mapping.pending_from_stream([record]) == ([], None)
    # And an operator replayed it since (quarantined -> accepted, with the corrected event)
    ddb.update_item(TableName="inbox", Key={"pk": {"S": key}}, UpdateExpression="SET #s = :accepted",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":accepted": {"S": "accepted"}})
    # When the stream delivers its old record again (a retried batch)
    assert mapping.pending_from_stream([record]) == ([], None)
    # Then the replay stands: the item is still accepted, waiting for the bus with the operator's event
    item = ddb.get_item(TableName="inbox", Key={"pk": {"S": key}})["Item"]
    assert item["status"]["S"] == "accepted"
