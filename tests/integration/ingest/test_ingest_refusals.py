"""Bad input gets a clear error and leaves nothing behind (DESIGN rule 3)."""

import time

import pytest
import requests
from tests import webhooks

pytestmark = pytest.mark.integration


def _nothing_written(inbox_items, before: int) -> bool:
    return len(inbox_items()) == before


def test_forged_stripe_webhook_is_refused(stack, gateway, inbox_items):
    # Given a webhook signed with a secret that is not the endpoint's
    before = len(inbox_items())
    response = webhooks.post(gateway, "stripe", webhooks.sample("stripe/invoice.paid.json"), secret="whsec_forged")
    # Then 401 with a reason, and nothing stored
    assert response.status_code == 401
    assert response.json()["error"] == "AuthenticationFailed"
    assert "signature" in response.json()["message"]
    assert _nothing_written(inbox_items, before)


def test_tampered_body_is_refused(stack, gateway, inbox_items):
    before = len(inbox_items())
    body, _ = webhooks.fresh("stripe", webhooks.sample("stripe/invoice.paid.json"))
    url, headers, signed = webhooks.signed_request("stripe", f"{gateway}/webhooks/stripe", body)
    response = requests.post(url, data=signed.replace(b'"paid"', b'"void"', 1), headers=headers, timeout=10)
    assert response.status_code == 401
    assert _nothing_written(inbox_items, before)


def test_expired_signature_is_refused(stack, gateway, inbox_items):
    before = len(inbox_items())
    response = webhooks.post(gateway, "stripe", webhooks.sample("stripe/invoice.paid.json"), now=time.time() - 301)
    assert response.status_code == 401
    assert "tolerance" in response.json()["message"] or "old" in response.json()["message"]
    assert _nothing_written(inbox_items, before)


def test_wrong_basic_auth_is_refused(stack, gateway, inbox_items):
    before = len(inbox_items())
    response = webhooks.post(gateway, "chargebee", webhooks.sample("chargebee/invoice_generated.json"),
                             secret="not-the-password")
    assert response.status_code == 401
    assert _nothing_written(inbox_items, before)


def test_rotated_secret_is_accepted(stack, gateway):
    # Given Stripe still signs with the previous secret during a roll
    previous = webhooks.credentials("stripe")["previous"]
    response = webhooks.post(gateway, "stripe", webhooks.sample("stripe/invoice.paid.json"), secret=previous)
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"


def test_not_the_vendors_envelope_is_400(stack, gateway, inbox_items):
    before = len(inbox_items())
    url, headers, body = webhooks.signed_request("stripe", f"{gateway}/webhooks/stripe", b'{"hello": "world"}')
    response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "BadEnvelope"
    assert _nothing_written(inbox_items, before)


def test_unknown_source_is_404(stack, gateway):
    response = requests.post(f"{gateway}/webhooks/quickbooks", data=b"{}", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error": "UnknownSource", "message": response.json()["message"]}
    assert "quickbooks" in response.json()["message"]


def test_too_large_is_413(stack, gateway, inbox_items):
    before = len(inbox_items())
    body = b'{"id": "evt_big", "pad": "' + b"x" * 1_100_000 + b'"}'
    url, headers, body = webhooks.signed_request("stripe", f"{gateway}/webhooks/stripe", body)
    response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert _nothing_written(inbox_items, before)
