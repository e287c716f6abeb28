"""AWS calls inside the local stack's process answered without HTTP (local/inprocess_aws.py) behave as the
same calls over HTTP: streaming bodies, checksums, errors, long polls; other clients keep using the server."""

from __future__ import annotations

import threading
import time
import uuid
import zlib
from base64 import b64encode
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, FlexibleChecksumError

from local import inprocess_aws

pytestmark = pytest.mark.integration
NO_EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:none:none"


def http_client(stack: Any, service: str) -> Any:
    """A client of the embedded endpoint that sends over HTTP, as a client created before the stack does."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    session._session.unregister(inprocess_aws.EVENT, inprocess_aws._before_send)
    return session.client(service, endpoint_url=stack.aws.url)


def server_of(response: dict[str, Any]) -> str:
    return response["ResponseMetadata"]["HTTPHeaders"]["server"]


def test_the_stacks_clients_skip_http_and_other_clients_still_reach_the_server(stack):
    # Given the stack's own client and a client that sends over HTTP
    sqs, over_http = stack.client("sqs"), http_client(stack, "sqs")
    answered = inprocess_aws.active().answered
    # When each makes calls on the same queue
    url = sqs.create_queue(QueueName=f"both-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sent = over_http.send_message(QueueUrl=url, MessageBody="over http")
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    # Then both reach the same moto, the stack's without a socket
    assert received["Messages"][0]["Body"] == "over http"
    assert server_of(received).startswith(inprocess_aws.SERVER_SOFTWARE) and server_of(sent).startswith("Werkzeug/3")
    assert inprocess_aws.active().answered == answered + 2


@pytest.fixture
def stored_object(stack):
    s3 = stack.client("s3")
    bucket, key = f"inproc-{uuid.uuid4().hex[:8]}", "raw/events/a b/ü%2F+€.json"
    s3.create_bucket(Bucket=bucket)
    body = bytes(range(256)) * 4096  # 1 MiB, every byte value
    s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="CRC32", Metadata={"source_system": "stripe"})
    return bucket, key, body


def test_a_streamed_object_with_its_checksum_reads_as_over_http(stack, stored_object):
    bucket, key, body = stored_object
    crc32 = b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    objects = [client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
               for client in (stack.client("s3"), http_client(stack, "s3"))]
    for got in objects:
        assert b"".join(got["Body"].iter_chunks(chunk_size=65_536)) == body
        assert got["ChecksumCRC32"] == crc32 and got["ContentLength"] == len(body)
        assert got["Metadata"] == {"source_system": "stripe"}
    ranged = stack.client("s3").get_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert ranged["Body"].read() == body[10:20] and ranged["ContentRange"] == f"bytes 10-19/{len(body)}"


def test_a_corrupted_body_fails_botocores_checksum_in_process(stack, stored_object, monkeypatch):
    # Given the embedded AWS flips one byte of what it answers
    bucket, key, _ = stored_object
    active = inprocess_aws.active()
    call = active.call

    def corrupting(environ):
        status, headers, body = call(environ)
        return status, headers, bytes([body[0] ^ 1]) + body[1:]

    monkeypatch.setattr(active, "call", corrupting)
    # When the object is read with checksum validation, Then botocore refuses it, as it would over HTTP
    got = stack.client("s3").get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    with pytest.raises(FlexibleChecksumError):
        got["Body"].read()


@pytest.mark.parametrize("service,call,code,status", [
    ("s3", lambda c: c.get_object(Bucket="no-such-bucket-here", Key="k"), "NoSuchBucket", 404),
    ("s3", lambda c: c.head_object(Bucket="no-such-bucket-here", Key="k"), "404", 404),
    ("dynamodb", lambda c: c.get_item(TableName="missing", Key={"id": {"S": "x"}}), "ResourceNotFoundException", 400),
    ("sqs", lambda c: c.get_queue_url(QueueName="missing"), "AWS.SimpleQueueService.NonExistentQueue", 400),
    ("stepfunctions", lambda c: c.describe_execution(executionArn=NO_EXECUTION), "ExecutionDoesNotExist", 400),
])
def test_errors_are_the_client_errors_http_gives(stack, service, call, code, status):
    errors = []
    for client in (stack.client(service), http_client(stack, service)):
        with pytest.raises(ClientError) as raised:
            call(client)
        errors.append(raised.value.response)
    local, wire = errors
    assert local["Error"]["Code"] == wire["Error"]["Code"] == code
    assert local["Error"] == wire["Error"]
    assert local["ResponseMetadata"]["HTTPStatusCode"] == wire["ResponseMetadata"]["HTTPStatusCode"] == status


def test_a_long_poll_holds_up_no_other_call(stack):
    # Given a long poll waiting on an empty queue
    sqs = stack.client("sqs")
    waiting = sqs.create_queue(QueueName=f"long-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    busy = sqs.create_queue(QueueName=f"busy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    result: dict[str, Any] = {}

    def long_poll() -> None:
        started = time.monotonic()
        result["messages"] = sqs.receive_message(QueueUrl=waiting, WaitTimeSeconds=5).get("Messages", [])
        result["waited"] = time.monotonic() - started

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.3)
    # When other calls are made meanwhile
    started = time.monotonic()
    for n in range(20):
        sqs.send_message(QueueUrl=busy, MessageBody=str(n))
    others = time.monotonic() - started
    sqs.send_message(QueueUrl=waiting, MessageBody="wake up")
    poller.join(timeout=10)
    # Then they did not wait for the poll, and the poll returned the message sent while it waited
    assert others < 2.5, f"20 sends took {others:.2f} s beside a long poll"
    assert [m["Body"] for m in result["messages"]] == ["wake up"] and result["waited"] < 4.5


def test_step_functions_tasks_call_back_in_process(stack):
    # Given the client moto's interpreter gives its Lambda Tasks (http://localhost:$MOTO_PORT)
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    client = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda", state_credentials=None)
    # When it calls, Then the call is answered in-process
    assert client.meta.endpoint_url == f"http://localhost:{stack.aws.url.rsplit(':', 1)[1]}"
    assert server_of(client.list_functions()).startswith(inprocess_aws.SERVER_SOFTWARE)


def test_a_session_holding_the_hook_twice_is_answered_once(stack):
    # Given boto3's default session made while the stack runs, then registered again (as a later install does)
    boto3.setup_default_session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    inprocess_aws._register_on_default_session()
    sqs = boto3.client("sqs", endpoint_url=stack.aws.url)
    url = sqs.create_queue(QueueName=f"once-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    # When it sends one message, Then moto took it once
    sqs.send_message(QueueUrl=url, MessageBody="once")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "1"
