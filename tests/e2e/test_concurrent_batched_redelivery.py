"""Issue 11.3: the local stack never loses what it acknowledged.

HubSpot delivers its webhooks in batches (Salesforce: outbound messages with several notifications) and
redelivers a batch it is not sure about, sometimes several times at once. Each delivery is one DynamoDB
transaction of conditional puts; a redelivery cancels on its duplicates. On moto 5.2.5 as shipped, a
cancelled transaction rolled the table back to a copy taken before it, discarding what other requests wrote
meanwhile, and the stream publisher lost its shard.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from erphub.event_ids import event_id_for
from local.stack import HubStack
from local.webhooks import post

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 200
BATCH = 10  # events per delivery; batch n overlaps batch n-1 by OVERLAP events (HubSpot retries partially too)
OVERLAP = 3
COPIES = 3  # every batch is delivered this many times at once
PORTAL = 62515
PROMPT = 60  # seconds after the last answer by which every event must be on the bus


@pytest.fixture(scope="module")
def stack():
    # schedules slowed 100x: the outbox sweeper never runs here, so whatever reaches the bus came through the
    # stream, and a sweeper racing the stream cannot publish an event twice
    with HubStack(ROOT / "template.yaml", sandbox=False, schedule_speedup=0.01) as running:
        yield running


SALESFORCE_ENVELOPE = ROOT / "events" / "salesforce" / "account_updated.xml"


def _salesforce_batch(numbers: list[int]) -> bytes:
    """An outbound message with one Account notification per number (the sample's, with its own ids)."""
    text = SALESFORCE_ENVELOPE.read_text(encoding="utf-8")
    start, end = text.index("   <Notification>"), text.index("</Notification>") + len("</Notification>\n")
    notification = text[start:end]
    many = "".join(notification.replace("04l5g00000KmWr5AAF", _notification_id(n))
                   .replace("0015g00000AbCdEAAZ", f"0015g0000{n:06d}AAZ") for n in numbers)
    return (text[:start] + many + text[end:]).encode()


def _notification_id(n: int) -> str:
    return f"04l5g0000{n:06d}AAF"


def _company_change(n: int) -> dict:
    return {"eventId": 7_000_000 + n, "subscriptionId": 25760, "portalId": PORTAL, "appId": 1160452,
            "attemptNumber": 0, "occurredAt": 1717459200000 + n, "subscriptionType": "company.propertyChange",
            "objectId": 9_900_000 + n, "propertyName": "name", "propertyValue": f"Stress Company {n}",
            "changeSource": "CRM_UI", "sourceId": "userId:4316523"}


def _batches() -> list[list[int]]:
    starts = range(0, EVENTS, BATCH - OVERLAP)
    return [list(range(max(0, s - OVERLAP), min(EVENTS, s + BATCH - OVERLAP))) for s in starts]


def _observe_bus(stack: HubStack) -> str:
    """A queue behind a catch-all rule of the hub's bus: every event put on the bus lands there once."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="stress-bus-observer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.physical("EventBus")
    events.put_rule(Name="stress-bus-observer", EventBusName=bus, EventPattern=json.dumps({"source": ["erphub"]}))
    events.put_targets(Rule="stress-bus-observer", EventBusName=bus, Targets=[{"Id": "observer", "Arn": arn}])
    return url


def _answered_for_another_batch(batches: list[list[int]], responses: list[tuple[int, str]]) -> int:
    """Deliveries whose 202 answered for other events than the ones sent (a vendor would count them delivered)."""
    sent = [batch for batch in batches for _ in range(COPIES)]
    wrong = 0
    for batch, (status, body) in zip(sent, responses, strict=True):
        answered = {r["event_id"] for r in json.loads(body).get("events", [])} if status == 202 else set()
        wrong += status == 202 and answered != {event_id_for("hubspot", f"{PORTAL}:{7_000_000 + n}") for n in batch}
    return wrong


def _deliver_concurrently(gateway: str, batches: list[list[int]]) -> list[tuple[int, str]]:
    """Every batch COPIES times at once (a barrier per batch), several batches in flight together."""

    def deliver(batch: list[int], barrier: threading.Barrier) -> tuple[int, str]:
        body = json.dumps([_company_change(n) for n in batch]).encode()
        barrier.wait(timeout=30)
        return post(gateway, "hubspot", body)

    with ThreadPoolExecutor(max_workers=4 * COPIES) as pool:
        futures = []
        for batch in batches:
            barrier = threading.Barrier(COPIES)
            futures += [pool.submit(deliver, batch, barrier) for _ in range(COPIES)]
        return [f.result(timeout=120) for f in futures]


def _acknowledged(responses: list[tuple[int, str]]) -> dict[str, str]:
    """event_id -> status of every event a 202 answered accepted or duplicate (a 5xx acknowledges nothing)."""
    acknowledged: dict[str, str] = {}
    for status, body in responses:
        for receipt in json.loads(body).get("events", []) if status == 202 else []:
            if receipt["status"] in ("accepted", "duplicate"):
                acknowledged[receipt["event_id"]] = receipt["status"]
    return acknowledged


def _inbox_keys(stack: HubStack, prefix: str = "hubspot#") -> dict[str, str]:
    """event_id -> inbox key of every item of a source in the inbox."""
    pages = stack.client("dynamodb").get_paginator("scan").paginate(
        TableName=stack.physical("InboxTable"), ProjectionExpression="pk, event_id")
    return {i["event_id"]["S"]: i["pk"]["S"] for page in pages for i in page["Items"]
            if i["pk"]["S"].startswith(prefix) and "event_id" in i}


def test_concurrent_batched_redeliveries_lose_nothing_and_publish_each_event_once(stack):
    # Given the hub's bus observed by a catch-all rule, and 200 distinct HubSpot company changes in
    # overlapping batches of 10
    observer = _observe_bus(stack)
    batches = _batches()
    assert sorted({n for b in batches for n in b}) == list(range(EVENTS))
    # When every batch is delivered 3 times at once over HTTP
    started = time.monotonic()
    responses = _deliver_concurrently(stack.endpoints["gateway"], batches)
    delivered = time.monotonic()
    acknowledged = _acknowledged(responses)
    failed = [status for status, _ in responses if status != 202]
    crossed = _answered_for_another_batch(batches, responses)
    # Then every acknowledged event is in the inbox
    stored = _inbox_keys(stack)
    missing = set(acknowledged) - set(stored)
    # And each reaches the bus exactly once, promptly through the stream (the sweeper runs every 5 minutes)
    seen: list[str] = []

    def all_published() -> bool:
        seen.extend(m["detail"]["event_id"] for m in stack.receive_all(observer))
        return set(acknowledged) <= set(seen)

    with contextlib.suppress(TimeoutError):  # what is missing then is counted below
        stack.wait_until(all_published, timeout=PROMPT, interval=0.2)
    published = time.monotonic()
    time.sleep(1.0)  # a late second copy would arrive now
    seen.extend(m["detail"]["event_id"] for m in stack.receive_all(observer))
    unpublished = set(acknowledged) - set(seen)
    twice = {e for e in seen if seen.count(e) > 1}
    figures = (f"{len(responses)} deliveries in {delivered - started:.2f} s, {len(failed)} not 202, {crossed} "
               f"answered for another batch's events; "
               f"{len(acknowledged)} of {EVENTS} events acknowledged, {len(missing)} of them missing from the "
               f"inbox, {len(unpublished)} not on the bus after {PROMPT} s, {len(twice)} published more than once; "
               f"all on the bus {published - delivered:.2f} s after the last answer")
    print("\n" + figures)
    assert (failed, crossed, len(acknowledged), missing, unpublished, twice) == ([], 0, EVENTS, set(), set(), set()), \
        figures


def test_concurrent_salesforce_outbound_messages_lose_nothing_and_publish_each_event_once(stack):
    # Given 105 Account notifications in overlapping outbound messages of 10, each delivered 3 times at once
    observer = _observe_bus(stack)
    batches = [b for b in _batches() if b[0] < 100]
    numbers = sorted({n for b in batches for n in b})

    def deliver(batch: list[int], barrier: threading.Barrier) -> tuple[int, str]:
        body = _salesforce_batch(batch)
        barrier.wait(timeout=30)
        return post(stack.endpoints["gateway"], "salesforce", body)

    with ThreadPoolExecutor(max_workers=4 * COPIES) as pool:
        futures = []
        for batch in batches:
            barrier = threading.Barrier(COPIES)
            futures += [pool.submit(deliver, batch, barrier) for _ in range(COPIES)]
        responses = [f.result(timeout=120) for f in futures]
    # Then every notification of an acknowledged message (<Ack>true</Ack>) is in the inbox
    sent = [batch for batch in batches for _ in range(COPIES)]
    acked = {_notification_id(n) for batch, (status, body) in zip(sent, responses, strict=True)
             if status == 200 and "<Ack>true</Ack>" in body for n in batch}
    failed = sum(1 for status, _ in responses if status != 200)
    keys = {f"salesforce#{i}" for i in acked}
    stored = {pk: event_id for event_id, pk in _inbox_keys(stack, "salesforce#").items() if pk in keys}
    # And each reaches the bus exactly once, promptly
    seen: list[str] = []

    def all_published() -> bool:
        seen.extend(m["detail"]["event_id"] for m in stack.receive_all(observer))
        return set(stored.values()) <= set(seen)

    with contextlib.suppress(TimeoutError):
        stack.wait_until(all_published, timeout=PROMPT, interval=0.2)
    time.sleep(1.0)
    seen.extend(m["detail"]["event_id"] for m in stack.receive_all(observer))
    mine = [e for e in seen if e in set(stored.values())]
    figures = (f"{len(responses)} messages, {failed} not acknowledged; {len(acked)} of {len(numbers)} notifications "
               f"acknowledged, {len(keys) - len(stored)} missing from the inbox, "
               f"{len(set(stored.values()) - set(mine))} not on the bus, {len(mine) - len(set(mine))} extra copies")
    print("\n" + figures)
    assert (failed, len(acked), len(stored), sorted(mine)) == (0, len(numbers), len(keys), sorted(stored.values())), \
        figures
