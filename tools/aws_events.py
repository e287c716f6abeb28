"""Writes events/aws/*.json: AWS events of the real shapes for `sam local invoke -e` (and for reading).

    python -m tools.aws_events

The API Gateway events carry vendor samples signed with the local dev secrets at the time of writing
(signatures expire: Stripe and HubSpot allow 5 minutes), so run this again right before invoking.
The stream and SQS events carry the canonical events the sources make of the same samples.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "events" / "aws"
REGION, ACCOUNT = "us-east-1", "123456789012"


def main() -> int:
    sys.path.insert(0, str(ROOT / "layers" / "hub" / "python"))
    OUT.mkdir(parents=True, exist_ok=True)
    stripe_body = (ROOT / "events" / "stripe" / "invoice.paid.json").read_bytes()
    salesforce_body = (ROOT / "events" / "salesforce" / "opportunity_closed_won.xml").read_bytes()
    gainsight_risk = (ROOT / "events" / "gainsight" / "renewal_risk_changed.json").read_bytes()
    files = {
        "apigateway-webhook-stripe.json": api_event("stripe", stripe_body),
        "apigateway-webhook-salesforce.json": api_event("salesforce", salesforce_body),
        "dynamodb-stream-inbox-insert.json": stream_event("stripe", stripe_body),
        "sqs-activation.json": sqs_event("salesforce", salesforce_body, "activation"),
        "sqs-erp-posting-intake.json": sqs_event("stripe", stripe_body, "erp-posting-intake"),
        "schedule-outbox-sweeper.json": schedule_event(),
        "sqs-erp-posting.json": fifo_event(sqs_event("stripe", stripe_body, "erp-posting.fifo")),
        "sqs-renewal-risk.json": sqs_event("gainsight", gainsight_risk, "renewal-risk"),
        "stepfunctions-activation-task.json": task_event("salesforce", salesforce_body),
        "apigateway-api-v1-accounts-validate.json": api_v1_event(
            "/api/v1/accounts/validate", {"name": "Acme GmbH", "domain": "acme.example", "currency": "EUR",
                                          "tax_id": "DE123456789"}),
    }
    for name, event in files.items():
        (OUT / name).write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        print(f"wrote events/aws/{name}")
    return 0


def api_event(source: str, body: bytes) -> dict[str, Any]:
    from local.webhooks import signed_request

    url, headers, body = signed_request(
        source, f"https://abc123.execute-api.{REGION}.amazonaws.com/local/webhooks/{source}", body)
    headers = {**headers, "Host": f"abc123.execute-api.{REGION}.amazonaws.com", "X-Forwarded-Proto": "https"}
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&")) if "?" in url else None
    return {
        "resource": "/webhooks/{source}", "path": f"/webhooks/{source}", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()}
        or None, "pathParameters": {"source": source}, "stageVariables": None,
        "requestContext": {"resourcePath": "/webhooks/{source}", "httpMethod": "POST", "stage": "local",
                           "path": f"/local/webhooks/{source}", "requestId": str(uuid.uuid4()),
                           "requestTimeEpoch": int(time.time() * 1000), "accountId": ACCOUNT, "apiId": "abc123",
                           "domainName": f"abc123.execute-api.{REGION}.amazonaws.com",
                           "identity": {"sourceIp": "54.187.174.169"}},
        "body": base64.b64encode(body).decode(), "isBase64Encoded": True,
    }


def api_v1_event(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A /api/v1 request as API Gateway hands it over once the API key was accepted (identity.apiKeyId set)."""
    headers = {"Content-Type": "application/json", "Host": f"abc123.execute-api.{REGION}.amazonaws.com",
               "x-api-key": "local-sample-key", "X-Forwarded-Proto": "https"}
    return {
        "resource": path, "path": path, "httpMethod": "POST", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "stage": "local", "path": f"/local{path}",
                           "requestId": str(uuid.uuid4()), "requestTimeEpoch": int(time.time() * 1000),
                           "accountId": ACCOUNT, "apiId": "abc123",
                           "domainName": f"abc123.execute-api.{REGION}.amazonaws.com",
                           "identity": {"sourceIp": "54.187.174.169", "apiKey": "local-sample-key",
                                        "apiKeyId": "k1sample"}},
        "body": json.dumps(body), "isBase64Encoded": False,
    }


def _canonical(source: str, body: bytes) -> tuple[str, Any]:
    from erphub.sources import get_source
    from erphub.sources.inbound import Headers, InboundRequest

    request = InboundRequest(method="POST", url=f"https://example/webhooks/{source}", headers=Headers({}),
                             body=body, received_at=datetime.now(UTC))
    vendor_event = next(e for e in get_source(source).parse(request) if get_source(source).normalize(e))
    return vendor_event.vendor_event_id, get_source(source).normalize(vendor_event)


def stream_event(source: str, body: bytes) -> dict[str, Any]:
    vendor_id, envelope = _canonical(source, body)
    image = {"pk": {"S": f"{source}#{vendor_id}"}, "status": {"S": "accepted"}, "source": {"S": source},
             "source_event_id": {"S": vendor_id}, "event_id": {"S": envelope.event_id},
             "event_type": {"S": str(envelope.type)}, "event": {"S": envelope.model_dump_json()},
             "unpublished": {"S": "1"}, "received_at": {"S": datetime.now(UTC).isoformat()}}
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/erphub-local-inbox/stream/2026-01-01T00:00:00.000"
    return {"Records": [{
        "eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": REGION, "eventSourceARN": table,
        "dynamodb": {"ApproximateCreationDateTime": int(time.time()), "Keys": {"pk": image["pk"]},
                     "NewImage": image, "SequenceNumber": "111100000000000000000001", "SizeBytes": 2048,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"}}]}


def sqs_event(source: str, body: bytes, queue: str) -> dict[str, Any]:
    _, envelope = _canonical(source, body)
    bus_event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": str(envelope.type), "source": "erphub",
                 "account": ACCOUNT, "time": envelope.occurred_at.isoformat(), "region": REGION, "resources": [],
                 "detail": json.loads(envelope.model_dump_json())}
    now_ms = str(int(time.time() * 1000))
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "AQEB" + uuid.uuid4().hex, "body": json.dumps(bus_event),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now_ms, "SenderId": "AIDAEVENTBRIDGE",
                       "ApproximateFirstReceiveTimestamp": now_ms},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:erphub-local-{queue}", "awsRegion": REGION}]}


def fifo_event(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS event from a FIFO queue: the sequencer's message group (the customer) and deduplication id."""
    for record in event["Records"]:
        detail = json.loads(record["body"])["detail"]
        record["attributes"].update({"MessageGroupId": detail["business_key"],
                                     "MessageDeduplicationId": detail["event_id"],
                                     "SequenceNumber": "18888888888888888888"})
    return event


def task_event(source: str, body: bytes) -> dict[str, Any]:
    """What a state machine's first Task hands an adapter: the action and the execution's input as `state`."""
    _, envelope = _canonical(source, body)
    state = {"event": json.loads(envelope.model_dump_json()), "correlation_id": envelope.correlation_id}
    return {"action": "identity.resolve", "workflow": "activation", "state": state}


def schedule_event() -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/erphub-local-sweep"], "detail": {}}


if __name__ == "__main__":
    raise SystemExit(main())
