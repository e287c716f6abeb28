"""A source's webhook secret as Secrets Manager holds it: the credentials it gives, and the reason it is refused."""

import json

import pytest

from erphub.errors import Permanent
from erphub.sources.inbound import SourceCredentials

pytestmark = pytest.mark.unit


def test_a_secret_gives_its_credentials_and_ignores_other_keys():
    # Given a rotated secret as stored, with a key the hub does not read
    secret = {"current": "new", "previous": "old", "username": "cb", "mode": "hmac", "organization_ids": ["00D1"],
              "note": "rotated 2024-06-01"}

    # When it is read
    credentials = SourceCredentials.from_secret(secret)

    # Then both secrets are active, newest first, and every field is as stored
    assert credentials == SourceCredentials(current="new", previous="old", username="cb", mode="hmac",
                                            organization_ids=["00D1"])
    assert credentials.active == ["new", "old"]
    assert SourceCredentials.from_secret({"current": "only"}).active == ["only"]


def test_organization_ids_may_be_a_comma_separated_string():
    # Given the allow list as the template's secret and an admin's edit write it
    # When / Then it is split, blanks dropped
    assert SourceCredentials.from_secret({"current": "t", "organization_ids": " 00D1, ,00D2 "}).organization_ids == [
        "00D1", "00D2"]
    assert SourceCredentials.from_secret({"current": "t", "organization_ids": ""}).organization_ids == []


@pytest.mark.parametrize(("secret", "reason"), [
    (None, "not a JSON object (got null)"),
    (["whsec_1"], "not a JSON object (got an array)"),
    ({}, "current is missing or empty"),
    ({"current": ""}, "current is missing or empty"),
    ({"current": 42}, "current must be a string (got a number)"),
    ({"current": "t", "previous": None}, "previous must be a string (got null)"),
    ({"current": "t", "organization_ids": [1]}, "organization_ids must be a list of strings"),
    ({"current": "t", "organization_ids": {"a": 1}}, "organization_ids must be a list of strings"),
])
def test_a_secret_that_is_no_webhook_credential_is_refused_with_its_reason(secret, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        SourceCredentials.from_secret(secret)


@pytest.mark.parametrize(("stored", "reason"), [
    ("not json", "not JSON"),
    (json.dumps({"previous": "old"}), "current is missing or empty"),
    (json.dumps("whsec_1"), "not a JSON object"),
])
def test_ingest_names_the_secret_and_the_reason_it_is_refused(hub_settings, stored, reason):
    from moto import mock_aws

    from erphub.ingest.webhook_secrets import source_credentials

    with mock_aws():
        # Given the stripe webhook secret holds something that is not a credential
        hub_settings(SOURCE_SECRET_PREFIX="erphub/test/webhooks/", SECRETS_MAX_AGE_SECONDS="0")
        from erphub import aws

        aws.client("secretsmanager").create_secret(Name="erphub/test/webhooks/stripe", SecretString=stored)

        # When ingest reads it / Then the request fails permanently, naming the secret and why
        with pytest.raises(Permanent) as refused:
            source_credentials("stripe")
    assert str(refused.value).startswith("secret erphub/test/webhooks/stripe is not a valid webhook credential: ")
    assert reason in str(refused.value)


def test_ingest_reads_a_valid_secret(hub_settings):
    from moto import mock_aws

    from erphub import aws
    from erphub.ingest.webhook_secrets import source_credentials

    with mock_aws():
        hub_settings(SOURCE_SECRET_PREFIX="erphub/test/webhooks/", SECRETS_MAX_AGE_SECONDS="0")
        aws.client("secretsmanager").create_secret(
            Name="erphub/test/webhooks/salesforce",
            SecretString=json.dumps({"current": "tok", "previous": "", "organization_ids": "00D1,00D2"}))

        assert source_credentials("salesforce") == SourceCredentials(current="tok", organization_ids=["00D1", "00D2"])
