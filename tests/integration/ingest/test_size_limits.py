"""Size limits by claim check: nothing accepted is ever stuck because it is too large for AWS.

- A canonical event over EventBridge's 256 KB entry limit (less the headroom for delivery) is stored in S3
  and published as its envelope plus a claim check; consumers get it back with resolve_event.
- A raw body over the inline limit, or one that would push the inbox item towards DynamoDB's 400 KB, is
  stored in S3 and the item keeps the reference.
Each limit is tested with an event just under and just over it.
"""

import json
import uuid
from datetime import UTC, datetime

import pytest
from tests import webhooks

from erphub import publishing
from erphub.settings import Settings
from erphub.sources import get_source
from erphub.sources.inbound import Headers, InboundRequest
from erphub.store import inbox, raw_bodies

pytestmark = pytest.mark.integration

INLINE_BODY_LIMIT = Settings.from_env().inline_body_limit_bytes
QUEUE = "RenewalRiskQueue"


@pytest.fixture(scope="module", autouse=True)
def _held_consumers(stack):
    # every consumer is held: the test reads what the rules deliver, nobody else takes it
    for logical_id, resource in stack.template.resources.items():
        if resource.get("Type") == "AWS::SQS::Queue":
            stack.pause_consumers(logical_id)


@pytest.fixture
def aws_of_stack(stack, hub_settings):
    hub_settings(AWS_ENDPOINT_URL=stack.aws.url)


def renewal_risk(reason: str = "", padding: str = "") -> bytes:
    document = json.loads(webhooks.sample("gainsight/renewal_risk_changed.json"))
    document.update(eventId=uuid.uuid4().hex, reason=reason)
    if padding:
        document["padding"] = padding  # a field the hub does not map: it grows the body, not the event
    return json.dumps(document).encode()


def entry_bytes(body: bytes) -> int:
    """What EventBridge would count for this body's canonical event, computed as ingest does."""
    source = get_source("gainsight")
    request = InboundRequest("POST", "https://hub.example/webhooks/gainsight", Headers(), body,
                             datetime.now(UTC))
    event = source.parse(request)[0]
    envelope = source.normalize(event)
    return publishing.entry_bytes(str(envelope.type), envelope.model_dump_json())


def with_entry_bytes(target: int) -> bytes:
    base = entry_bytes(renewal_risk("r"))
    return renewal_risk("r" * (1 + target - base))


def inbox_item(stack, body: bytes) -> dict:
    key = inbox.inbox_key("gainsight", json.loads(body)["eventId"])
    return stack.client("dynamodb").get_item(TableName=stack.physical("InboxTable"), Key={"pk": {"S": key}},
                                             ConsistentRead=True)["Item"]


def delivered(stack, event_id: str) -> dict:
    for message in stack.receive_all(QUEUE, wait=10, count=1):
        if message["detail"]["event_id"] == event_id:
            return message
    raise AssertionError(f"event {event_id} was not delivered to {QUEUE}")


def test_an_event_just_under_the_bus_limit_is_published_inline(stack, gateway):
    # Given a renewal-risk signal whose canonical event is exactly at the inline limit
    body = with_entry_bytes(raw_bodies.MAX_INLINE_EVENT_BYTES)
    assert entry_bytes(body) == raw_bodies.MAX_INLINE_EVENT_BYTES
    # When Gainsight sends it
    response = webhooks.post(gateway, "gainsight", body, fresh_id=False)
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    # Then the event travels whole: the detail on the queue carries the data
    message = delivered(stack, response.json()["event_id"])
    assert message["detail"]["data"]["reason"].startswith("rrr")
    assert raw_bodies.CLAIM_CHECK not in message["detail"]


def test_an_event_just_over_the_bus_limit_travels_by_claim_check(stack, gateway, aws_of_stack):
    # Given a signal whose canonical event is one byte over the inline limit
    body = with_entry_bytes(raw_bodies.MAX_INLINE_EVENT_BYTES + 1)
    response = webhooks.post(gateway, "gainsight", body, fresh_id=False)
    # Then it is accepted (never refused, never stuck)
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    # And the bus carried its envelope and a claim check, small enough for any target
    message = delivered(stack, response.json()["event_id"])
    detail = message["detail"]
    assert "data" not in detail and detail["type"] == "success.renewal_risk.changed"
    assert len(json.dumps(message)) < 8 * 1024
    # And a consumer gets the whole event back from the claim check
    event = raw_bodies.resolve_event(detail)
    assert event["event_id"] == detail["event_id"] and len(event["data"]["reason"]) > 250_000
    # And the inbox item keeps the same small envelope, published like any other
    assert json.loads(inbox_item(stack, body)["event"]["S"])[raw_bodies.CLAIM_CHECK] == detail["claim_check"]


def test_a_raw_body_at_the_inline_limit_stays_in_the_item(stack, gateway):
    small = renewal_risk(padding="p")
    body = renewal_risk(padding="p" * (1 + INLINE_BODY_LIMIT - len(small)))
    assert len(body) == INLINE_BODY_LIMIT
    assert webhooks.post(gateway, "gainsight", body, fresh_id=False).status_code == 202
    item = inbox_item(stack, body)
    assert item["raw_body"]["B"] == body and "raw_ref" not in item


def test_a_raw_body_just_over_the_inline_limit_goes_to_s3(stack, gateway):
    small = renewal_risk(padding="p")
    body = renewal_risk(padding="p" * (2 + INLINE_BODY_LIMIT - len(small)))
    assert len(body) == INLINE_BODY_LIMIT + 1
    assert webhooks.post(gateway, "gainsight", body, fresh_id=False).status_code == 202
    item = inbox_item(stack, body)
    assert "raw_body" not in item
    bucket, _, key = item["raw_ref"]["S"].removeprefix("s3://").partition("/")
    assert stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == body


def stripe_subscription(items: int, padding: int) -> bytes:
    """A subscription of many bare items: the canonical event is about 4x the body (every item's fields)."""
    document = json.loads(webhooks.sample("stripe/customer.subscription.created.json"))
    document["id"] = f"evt_{uuid.uuid4().hex}"
    document["data"]["object"]["items"]["data"] = [{"price": {}, "note": "p" * padding} for _ in range(items)]
    return json.dumps(document).encode()


def stripe_entry_bytes(body: bytes) -> int:
    source = get_source("stripe")
    request = InboundRequest("POST", "https://hub.example/webhooks/stripe", Headers(), body, datetime.now(UTC))
    envelope = source.normalize(source.parse(request)[0])
    return publishing.entry_bytes(str(envelope.type), envelope.model_dump_json())


def test_a_body_at_the_inline_limit_and_an_event_at_the_bus_limit_fit_one_item(stack, gateway):
    # Given a body just under the inline limit whose event is just under the bus limit (the most an item holds)
    per_item = (stripe_entry_bytes(stripe_subscription(1001, 0)) - stripe_entry_bytes(stripe_subscription(1, 0))) / 1000
    items = int((raw_bodies.MAX_INLINE_EVENT_BYTES - stripe_entry_bytes(stripe_subscription(0, 0))) / per_item)
    while stripe_entry_bytes(stripe_subscription(items, 0)) > raw_bodies.MAX_INLINE_EVENT_BYTES:
        items -= 1
    padding = (INLINE_BODY_LIMIT - 1000 - len(stripe_subscription(items, 0))) // items
    body = stripe_subscription(items, padding)
    assert INLINE_BODY_LIMIT - 5000 < len(body) < INLINE_BODY_LIMIT
    assert raw_bodies.MAX_INLINE_EVENT_BYTES - 200 < stripe_entry_bytes(body) <= raw_bodies.MAX_INLINE_EVENT_BYTES
    # When Stripe delivers it
    response = webhooks.post(gateway, "stripe", body, fresh_id=False)
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    # Then, once mapped and published, the item holds the body and the event inline, within DynamoDB's item limit
    item = webhooks.mapped_item(stack, response.json()["event_id"])
    assert item["status"]["S"] == "published" and item["raw_body"]["B"] == body and "raw_ref" not in item
    assert raw_bodies.CLAIM_CHECK not in json.loads(item["event"]["S"])
    assert inbox.item_bytes(item) <= inbox.MAX_ITEM_BYTES
