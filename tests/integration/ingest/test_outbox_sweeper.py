"""The outbox sweeper publishes the whole unpublished backlog, page after page, and an item that cannot be
published (malformed, too large for the bus) is skipped and reported as an exception instead of holding the
rest; the bus refusing an item for now leaves it for the next run."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from erphub import aws, publishing
from erphub.store.inbox import ACCEPTED, RECEIVED, InboxItem

pytestmark = pytest.mark.integration

BACKLOG = 503  # more than the 500 items the sweeper used to stop at


class CountingBus:
    """The real bus, counting the entries it took; `refuse` makes it answer a whole call with that error."""

    def __init__(self, real_client) -> None:
        self.real_client, self.taken, self.refuse = real_client, [], None

    def put_events(self, **kwargs):
        if self.refuse:
            raise ClientError({"Error": {"Code": self.refuse, "Message": "refused by the test"}}, "PutEvents")
        response = self.real_client("events").put_events(**kwargs)
        self.taken += [json.loads(e["Detail"])["event_id"] for e, r in zip(kwargs["Entries"], response["Entries"],
                                                                            strict=True) if not r.get("ErrorCode")]
        return response


@pytest.fixture
def bus(monkeypatch):
    real_client = aws.client
    counting = CountingBus(real_client)
    monkeypatch.setattr(aws, "client", lambda service: counting if service == "events" else real_client(service))
    return counting


@pytest.fixture
def sweeps_by_hand_only(stack, monkeypatch):
    """The 1-minute schedule holds off while a test runs the sweeper itself (two runs at once would each
    publish part of the backlog: allowed, at-least-once, but not what these tests count)."""
    monkeypatch.setattr(stack.scheduler, "fire", lambda name: None)


@pytest.fixture
def stream_path_lost(monkeypatch):
    """The stream path takes its records and publishes nothing (as when they expired or went to its DLQ),
    so accepted items stay in the outbox for the sweeper."""
    monkeypatch.setattr(publishing, "publish_in_order", lambda pending: None)


def _item(received_at: datetime, event_json: str | None = None) -> tuple[InboxItem, str]:
    """An accepted inbox item as the ingest writes it; its event is routed nowhere (a test type)."""
    event_id = uuid.uuid4().hex
    event = {"event_id": event_id, "type": "test.outbox.swept", "source": "test", "source_event_id": event_id,
             "occurred_at": received_at.isoformat(), "correlation_id": f"test:{event_id}", "data": {}}
    item = InboxItem(source="test", source_event_id=event_id, vendor_type="test", status=ACCEPTED,
                     event_id=event_id, correlation_id=f"test:{event_id}", received_at=received_at,
                     raw_body=b"{}", event_type="test.outbox.swept", event_json=event_json or json.dumps(event))
    return item, event_id


def _write(stack, items: list[InboxItem]) -> None:
    table, ddb = stack.physical("InboxTable"), stack.client("dynamodb")
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i.to_item(14)}}
                                                   for i in items[start:start + 25]]})


def _inbox_item(stack, key: str) -> dict:
    return stack.client("dynamodb").get_item(TableName=stack.physical("InboxTable"), ConsistentRead=True,
                                             Key={"pk": {"S": key}})["Item"]


def _exceptions(stack, kind: str) -> list[dict]:
    items = stack.client("dynamodb").scan(TableName=stack.physical("WorkflowTable"), ConsistentRead=True,
                                          FilterExpression="kind = :k",
                                          ExpressionAttributeValues={":k": {"S": kind}})["Items"]
    return [{k: next(iter(v.values())) for k, v in i.items()} for i in items]


def test_the_sweeper_pages_past_unpublishable_items_and_publishes_the_rest(stack, bus, stream_path_lost,
                                                                           sweeps_by_hand_only):
    # Given a backlog whose two oldest items cannot be published: one malformed, one over the bus's 256 KB
    start = datetime.now(UTC) - timedelta(minutes=10)
    malformed, _ = _item(start, event_json='{"type": "test.outbox.swept", "occurred_at": ')
    oversize, _ = _item(start)
    event = json.loads(oversize.event_json)
    oversize.event_json = json.dumps({**event, "data": {"note": "x" * 270_000}})
    good = [_item(start + timedelta(milliseconds=n + 1)) for n in range(BACKLOG)]
    _write(stack, [malformed, oversize] + [item for item, _ in good])
    # When the sweeper runs (as an operator would run it now)
    report = stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})
    # Then every good item is on the bus once and marked published, past the two bad ones
    assert report["skipped"] == 2 and report["left"] == 0 and report["complete"] == 1
    assert report["published"] >= BACKLOG
    ours = {event_id for _, event_id in good}
    assert sorted(e for e in bus.taken if e in ours) == sorted(ours)
    assert {_inbox_item(stack, item.key)["status"]["S"] for item, _ in good} == {"published"}
    # And each bad item is out of the backlog, quarantined with its reason, and reported as an exception
    for bad in (malformed, oversize):
        stored = _inbox_item(stack, bad.key)
        assert stored["status"]["S"] == "quarantined" and "unpublished" not in stored
        assert "cannot be published" in stored["reason"]["S"]
    reported = {e["detail"]["inbox_key"]["S"]: e for e in _exceptions(stack, "outbox_unpublishable")}
    assert {malformed.key, oversize.key} <= reported.keys()
    assert "256 KB" in reported[oversize.key]["reason"] and reported[oversize.key]["status"] == "open"
    # And the next run finds nothing of ours to publish or report again
    again = stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})
    assert again["skipped"] == 0 and not set(bus.taken[len(ours):]) & ours


def test_items_the_bus_refuses_for_now_stay_for_the_next_run(stack, bus, stream_path_lost, sweeps_by_hand_only):
    # Given two unpublished items and a bus that is throttling
    items = [_item(datetime.now(UTC) - timedelta(minutes=5)) for _ in range(2)]
    _write(stack, [item for item, _ in items])
    bus.refuse = "ThrottlingException"
    # When the sweeper runs, nothing is published, nothing is reported, both are left
    report = stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})
    assert report["published"] == 0 and report["skipped"] == 0 and report["left"] >= 2
    assert {_inbox_item(stack, item.key)["status"]["S"] for item, _ in items} == {"accepted"}
    # Then the next run, with the bus back, publishes them
    bus.refuse = None
    assert stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})["published"] >= 2
    assert {e for _, e in items} <= set(bus.taken)


def test_received_webhooks_the_stream_path_lost_are_mapped_by_the_sweep(stack, sweeps_by_hand_only,
                                                                         monkeypatch):
    from erphub.ingest import mapping

    # Given three webhooks the ack path stored (received) whose stream records never reached the publisher: a
    # closed-won deal, one without a company to bill (unmappable), and a Gainsight event the hub does not route
    monkeypatch.setattr(mapping, "pending_from_stream", lambda records: ([], None))
    received_at = datetime.now(UTC) - timedelta(minutes=5)
    stored = {"deal": _as_stored("hubspot", "hubspot/deal.closedwon.json", "deal.propertyChange"),
              "unmappable": _as_stored("hubspot", "hubspot/deal.closedwon_without_company.json", "deal.propertyChange"),
              "ignored": _as_stored("gainsight", "gainsight/nps_response.json", None)}
    items = {name: InboxItem(source=source, source_event_id=event.vendor_event_id, vendor_type=event.vendor_type,
                             status=RECEIVED, event_id=uuid.uuid4().hex,
                             correlation_id=f"event:{source}:{event.vendor_event_id}", received_at=received_at,
                             raw_body=event.raw)
             for name, (source, event) in stored.items()}
    _write(stack, list(items.values()))
    # When the sweep runs
    report = stack.invoke("OutboxSweeperFunction", {"grace_seconds": 0})
    # Then the deal is on the bus with its canonical event, the other two are settled, nothing is left
    assert (report["published"], report["settled"], report["left"]) == (1, 2, 0), report
    deal = _inbox_item(stack, items["deal"].key)
    assert deal["status"]["S"] == "published" and json.loads(deal["event"]["S"])["type"] == "crm.opportunity.closed_won"
    assert "unpublished" not in deal and deal["raw_body"]["B"] == items["deal"].raw_body
    unmappable = _inbox_item(stack, items["unmappable"].key)
    assert unmappable["status"]["S"] == "quarantined" and "expires_at" not in unmappable
    assert [e for e in _exceptions(stack, "quarantine")
            if e.get("detail", {}).get("inbox_key", {}).get("S") == items["unmappable"].key]
    assert _inbox_item(stack, items["ignored"].key)["status"]["S"] == "ignored"


def _as_stored(source: str, sample: str, vendor_type: str | None):
    """(source, the vendor event) as the ack path stores it: one event of the sample delivery, its raw bytes."""
    from erphub.sources import get_source
    from erphub.sources.inbound import Headers, InboundRequest

    body = (Path(__file__).resolve().parents[3] / "events" / sample).read_bytes()
    request = InboundRequest(method="POST", url="", headers=Headers(), body=body, received_at=datetime.now(UTC))
    events = get_source(source).parse(request)
    return source, next(e for e in events if vendor_type is None or e.vendor_type == vendor_type)
