"""The webhook front door of a deployed stack, over the Internet, signed as each vendor signs. Only events the hub
records and ignores (erphub smoke's test events) and requests it refuses are sent: no business effect."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import requests

from local.sandbox import signing
from tools import smoke

pytestmark = [pytest.mark.e2e, pytest.mark.deployed]


def _signed(aws, deployed, source: str, run_id: str, **overrides):
    credentials, why_not = smoke.webhook_secret(aws, deployed.output("WebhookSecretPrefix") + source)
    if credentials is None:
        pytest.skip(f"{source} is not configured on this stack: {why_not}")
    event = smoke.smoke_event(source, run_id, datetime.now(UTC))
    url = signing.endpoint_url(source, f"{deployed.output('WebhookUrl')}/{source}", credentials)
    headers, body = signing.sign(source, event.body, credentials, url, **{**event.options, **overrides})
    return url, headers, body, event


@pytest.mark.parametrize("source", smoke.SOURCES)
def test_a_signed_test_event_is_stored_as_ignored_and_a_redelivery_is_a_duplicate(aws, deployed, source):
    url, headers, body, event = _signed(aws, deployed, source, uuid.uuid4().hex[:16])
    first = requests.post(url, data=body, headers=headers, timeout=30)
    assert first.status_code in (200, 202), first.text
    again = requests.post(url, data=body, headers=headers, timeout=30)
    assert again.status_code in (200, 202), again.text
    if source != "salesforce":  # Salesforce is answered with its SOAP Ack, not a JSON receipt
        assert first.json()["status"] == "ignored" and again.json()["status"] == "duplicate"
        assert first.json()["event_id"] == again.json()["event_id"]
    item = aws("dynamodb").get_item(TableName=deployed.output("InboxTableName"), ConsistentRead=True,
                                    Key={"pk": {"S": f"{source}#{event.vendor_event_id}"}})["Item"]
    assert item["status"]["S"] == "ignored"


def test_a_forged_signature_is_401(aws, deployed):
    url, headers, body, _ = _signed(aws, deployed, "stripe", uuid.uuid4().hex[:16], secret="whsec_forged")
    response = requests.post(url, data=body, headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json()["error"] == "AuthenticationFailed"


def test_an_unknown_source_is_404(deployed):
    response = requests.post(f"{deployed.output('WebhookUrl')}/quickbooks", data=b"{}", timeout=30)
    assert response.status_code == 404
    assert response.json()["error"] == "UnknownSource"


def test_a_body_over_the_limit_is_413(aws, deployed):
    limit = int(deployed.parameters.get("MaxBodyBytes") or 1_048_576)
    padding = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "pad": "x" * (limit + 1)}).encode()
    response = requests.post(f"{deployed.output('WebhookUrl')}/stripe", data=padding, timeout=60,
                             headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"})
    assert response.status_code == 413
