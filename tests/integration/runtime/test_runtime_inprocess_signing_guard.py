"""local/inprocess_signing.py: a request the in-process transport answers carries the SigV4 headers botocore
would put on it (date, token, Authorization with its credential scope and signed headers) with an unverified
signature; every other request is signed by botocore as before; moto still finds account, region and service;
and the botocore internals it relies on are unchanged (botocore==1.44.8)."""

from __future__ import annotations

import re

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local import inprocess_signing

pytestmark = pytest.mark.integration
AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
                           r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
                           r"Signature=(?P<signature>[0-9a-f]{64})$")


def test_the_wrapped_botocore_method_is_still_what_the_module_expects(stack):
    import botocore

    assert botocore.__version__ == inprocess_signing.EXPECTED_BOTOCORE, "re-check local/inprocess_signing.py"
    inprocess_signing.check_compatible()
    assert inprocess_signing.installed()
    inprocess_signing.install()  # idempotent: wraps once
    assert getattr(SigV4Auth.add_auth, inprocess_signing.MARK).__qualname__ == "SigV4Auth.add_auth"
    assert not inprocess_signing.moto_verifies_signatures()  # moto's default: no IAM authentication


def _signed(url: str) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=b'{"TableName": "t"}',
                         headers={"X-Amz-Target": "DynamoDB_20120810.GetItem",
                                  "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials("AKIDLOCAL", "secret", "token-1"), "dynamodb", "eu-west-1").add_auth(request)
    return request


def test_an_in_process_request_gets_botocore_s_headers_with_an_unverified_signature(stack):
    # Given the same request to the embedded endpoint and to another endpoint
    local, remote = _signed(stack.aws.url + "/"), _signed("https://dynamodb.eu-west-1.amazonaws.com/")
    # Then both carry the same SigV4 headers, and only the one that leaves the process is really signed
    parts = [AUTHORIZATION.match(r.headers["Authorization"]) for r in (local, remote)]
    assert all(parts), [r.headers["Authorization"] for r in (local, remote)]
    for name in ("key", "date", "region", "service", "signed"):
        assert parts[0][name] == parts[1][name]
    assert parts[0]["signature"] == inprocess_signing.UNVERIFIED_SIGNATURE != parts[1]["signature"]
    assert (parts[0]["key"], parts[0]["region"], parts[0]["service"]) == ("AKIDLOCAL", "eu-west-1", "dynamodb")
    assert "host" in parts[0]["signed"].split(";") and "x-amz-date" in parts[0]["signed"].split(";")
    for request in (local, remote):
        assert request.headers["X-Amz-Security-Token"] == "token-1" and request.context["timestamp"]
        assert request.headers["X-Amz-Date"] == request.context["timestamp"]


def test_with_moto_checking_signatures_every_request_is_signed(stack, monkeypatch):
    from moto import settings

    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    authorization = _signed(stack.aws.url + "/").headers["Authorization"]
    assert not authorization.endswith(inprocess_signing.UNVERIFIED_SIGNATURE)


def test_moto_still_answers_from_the_caller_s_account_and_region(stack):
    from botocore.session import Session

    session = Session()
    session.set_credentials("testing", "testing")
    sqs = session.create_client("sqs", region_name="eu-west-1", endpoint_url=stack.aws.url)
    url = sqs.create_queue(QueueName="signing-guard")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:eu-west-1:{stack.aws.account_id}:signing-guard"
    sqs.delete_queue(QueueUrl=url)
