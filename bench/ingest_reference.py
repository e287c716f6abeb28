"""The minimal possible Stripe webhook handler, the yardstick of bench/ingest.py (never deployed).

The shape of AWS's serverless-patterns "API Gateway -> Lambda -> DynamoDB" webhook samples: plain boto3, clients
made at import, the endpoint secret read from Secrets Manager once and kept, the signature verified as Stripe
documents it (https://docs.stripe.com/webhooks#verify-manually: `t=<unix>,v1=<hex>`, HMAC-SHA256 of
f"{t}.{raw body}" keyed by the endpoint secret, 300 s tolerance), then ONE conditional PutItem (the dedup record
and raw archive at once) and a 202. It has none of erphub's features (other sources, normalization, quarantine,
claim checks, logging, metrics, tracing): whatever erphub costs above it is the price of those.
It reads its configuration from the environment the local stack gives the webhook function (same table, same
secret, same endpoint)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

import boto3
from botocore.exceptions import ClientError

TABLE = os.environ["INBOX_TABLE"]
SECRET_NAME = os.environ.get("SOURCE_SECRET_PREFIX", "erphub/dev/webhooks/") + "stripe"
_session = boto3.session.Session()
_dynamodb = _session.client("dynamodb")
_secrets = _session.client("secretsmanager")
_endpoint_secrets: list[str] = []


def _active_secrets() -> list[str]:
    if not _endpoint_secrets:
        value = json.loads(_secrets.get_secret_value(SecretId=SECRET_NAME)["SecretString"])
        _endpoint_secrets.extend(s for s in (value.get("current"), value.get("previous")) if s)
    return _endpoint_secrets


def _verified(header: str, body: bytes) -> bool:
    pairs = [part.strip().partition("=") for part in header.split(",")]
    timestamp = next((v for k, _, v in pairs if k == "t"), "")
    signatures = [v for k, _, v in pairs if k == "v1"]
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    for secret in _active_secrets():
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return True
    return False


def lambda_handler(event: dict, context: object) -> dict:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if not _verified(headers.get("stripe-signature", ""), body):
        return {"statusCode": 401, "body": json.dumps({"error": "signature"})}
    event_id = json.loads(body)["id"]
    try:
        _dynamodb.put_item(
            TableName=TABLE, ConditionExpression="attribute_not_exists(pk)",
            Item={"pk": {"S": f"reference#{event_id}"}, "raw_body": {"B": body},
                  "received_at": {"S": str(int(time.time()))}})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return {"statusCode": 200, "body": json.dumps({"event_id": event_id, "status": "duplicate"})}
    return {"statusCode": 202, "body": json.dumps({"event_id": event_id, "status": "accepted"})}
