"""A rotated connector secret reaches a warm connector within the max age, without a cold start (issue 16.5):
the adapters keep their connectors for the life of the Lambda process, as a warm Lambda does."""

from __future__ import annotations

import json
import time

import pytest

from erphub import aws
from erphub.connectors.credentials import ConnectorConfig
from erphub.connectors.stripe import StripeBilling
from erphub.errors import Permanent

pytestmark = pytest.mark.integration

MAX_AGE = 1
SLACK = 6  # seconds a busy 2-core machine may add to the polling; far below the 300 s a forever-cache would take
ROLLED_KEY = "sk_test_51Rolled00000000000000000000000erphub"


@pytest.fixture
def stripe_sandbox(sandbox):
    vendor = sandbox.vendors["stripe"]
    original = vendor.api_key
    yield vendor
    vendor.api_key = original


def test_a_rotated_api_key_is_used_by_the_same_connector_within_the_max_age(connect, secrets, stripe_sandbox):
    # Given a warm connector that has called Stripe with the current key, caching secrets for 1 s
    billing = connect(StripeBilling, secrets_max_age_seconds=MAX_AGE)
    assert billing.list_invoices("cus_none") == []
    # When Stripe rolls the key and the operator puts the new one into the connector secret
    stripe_sandbox.api_key = ROLLED_KEY
    secret_name = ConnectorConfig.from_environ("stripe").secret_name
    secrets.put_secret_value(SecretId=secret_name, SecretString=json.dumps({"api_key": ROLLED_KEY}))
    rotated_at = time.monotonic()
    # Then within the max age the same connector object uses the new key (no new process, no new connector)
    deadline = rotated_at + MAX_AGE + SLACK
    while True:
        try:
            assert billing.list_invoices("cus_none") == []
            break
        except Permanent as refused:  # the old key, still cached, is refused by the vendor
            assert "Invalid API Key" in str(refused)
            assert time.monotonic() < deadline, "the rotated key was not used within the max age"
            time.sleep(0.2)


def test_within_the_max_age_the_secret_is_read_once(connect, secrets, monkeypatch):
    # Given a connector caching for a long time
    billing = connect(StripeBilling, secrets_max_age_seconds=300)
    client = aws.client("secretsmanager")  # the client the secrets provider reads with
    reads = []
    original = client.get_secret_value
    monkeypatch.setattr(client, "get_secret_value", lambda **kw: reads.append(kw) or original(**kw))
    # When it makes several calls
    for _ in range(3):
        billing.list_invoices("cus_none")
    # Then the secret was read once (the cache serves the rest)
    assert len(reads) == 1


def test_the_stack_wide_max_age_applies_to_connectors():
    env = {"STRIPE_BASE_URL": "https://api.stripe.com", "SECRETS_MAX_AGE_SECONDS": "7"}
    assert ConnectorConfig.from_environ("stripe", env).secrets_max_age_seconds == 7
    assert ConnectorConfig.from_environ("stripe", {**env, "CONNECTOR_SECRETS_MAX_AGE_SECONDS": "2"}
                                        ).secrets_max_age_seconds == 2


def test_a_401_reads_the_secret_past_the_cache_and_pins_nothing(connect, secrets, stripe_sandbox):
    # Given a connector caching secrets for a long time, warm with the current key
    billing = connect(StripeBilling, secrets_max_age_seconds=300)
    assert billing.list_invoices("cus_none") == []
    secret_name = ConnectorConfig.from_environ("stripe").secret_name
    original = json.loads(secrets.get_secret_value(SecretId=secret_name)["SecretString"])
    # When the key is rolled at Stripe and in the secret, the cached old key gets a 401: the secret is read
    # again past the cache and the call succeeds at once (not after the 300 s max age)
    stripe_sandbox.api_key = ROLLED_KEY
    secrets.put_secret_value(SecretId=secret_name, SecretString=json.dumps({"api_key": ROLLED_KEY}))
    assert billing.list_invoices("cus_none") == []
    # And a second rotation reaches the same connector the same way (the re-read did not pin the key)
    stripe_sandbox.api_key = original["api_key"]
    secrets.put_secret_value(SecretId=secret_name, SecretString=json.dumps(original))
    assert billing.list_invoices("cus_none") == []
