"""The AWS sample events under events/aws/ are what the functions accept (regenerated fresh, so signatures
are valid), and the committed files keep the AWS shapes."""

import json
from pathlib import Path

import pytest

from tools import aws_events

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def test_committed_aws_events_have_the_aws_shapes():
    events = {p.name: json.loads(p.read_text()) for p in (ROOT / "events" / "aws").glob("*.json")}
    assert events["apigateway-webhook-stripe.json"]["isBase64Encoded"] is True
    assert events["dynamodb-stream-inbox-insert.json"]["Records"][0]["eventSource"] == "aws:dynamodb"
    assert json.loads(events["sqs-activation.json"]["Records"][0]["body"])["detail-type"] == \
        "crm.opportunity.closed_won"
    assert events["schedule-outbox-sweeper.json"]["detail-type"] == "Scheduled Event"


def test_the_api_gateway_samples_are_accepted_by_the_ingest_function(stack):
    stripe = stack.invoke("WebhookIngestFunction", aws_events.api_event(
        "stripe", (ROOT / "events" / "stripe" / "invoice.paid.json").read_bytes()))
    salesforce = stack.invoke("WebhookIngestFunction", aws_events.api_event(
        "salesforce", (ROOT / "events" / "salesforce" / "opportunity_closed_won.xml").read_bytes()))
    assert stripe["statusCode"] == 202
    assert salesforce["statusCode"] == 200 and "<Ack>true</Ack>" in salesforce["body"]


def test_the_queue_and_stream_samples_are_accepted_by_their_functions(stack):
    stripe = (ROOT / "events" / "stripe" / "invoice.paid.json").read_bytes()
    assert stack.invoke("ErpSequencerFunction", aws_events.sqs_event("stripe", stripe, "erp-posting-intake")) == \
        {"batchItemFailures": []}
    # the stream sample's item is in the inbox, as it would be: the publisher publishes it and marks it
    stream = aws_events.stream_event("stripe", stripe)
    image = stream["Records"][0]["dynamodb"]["NewImage"]
    ddb, table = stack.client("dynamodb"), stack.physical("InboxTable")
    stack.pause_consumers("ErpPostingIntakeQueue")
    stack.receive_all("ErpPostingIntakeQueue")
    # the real stream path sees this insert too and runs at the same moment as the direct invoke below: two
    # publishers racing on one item may both publish it (at-least-once; the deterministic event_id lets every
    # consumer dedupe), which is why this test checks ids, not counts
    ddb.put_item(TableName=table, Item=image)
    assert stack.invoke("PublisherFunction", stream) == {"batchItemFailures": []}
    assert ddb.get_item(TableName=table, Key={"pk": image["pk"]}, ConsistentRead=True)["Item"]["status"]["S"] == \
        "published"
    arrived = stack.receive_all("ErpPostingIntakeQueue", wait=5, count=1)
    assert {m["detail"]["event_id"] for m in arrived} == {image["event_id"]["S"]}
    assert set(stack.invoke("OutboxSweeperFunction", aws_events.schedule_event())) == \
        {"found", "published", "settled", "skipped", "left", "complete"}
