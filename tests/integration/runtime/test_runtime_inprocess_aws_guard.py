"""local/inprocess_aws.py: a request answered in-process reaches the WSGI app with the environ werkzeug's
server (with moto's request handler) builds from the same request sent over HTTP, and comes back to botocore as
it would over HTTP, errors included; the moto and botocore pieces it relies on are unchanged (moto==5.2.5)."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.awsrequest
import botocore.handlers
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from local import inprocess_aws
from local.embedded_aws import EmbeddedAws

pytestmark = pytest.mark.integration
VARYING = {"HTTP_X_AMZ_DATE", "HTTP_AUTHORIZATION", "HTTP_AMZ_SDK_INVOCATION_ID", "HTTP_AMZ_SDK_REQUEST",
           "HTTP_X_AMZ_CONTENT_SHA256", "REMOTE_PORT", "SERVER_SOFTWARE", "HTTP_USER_AGENT"}


def test_moto_and_botocore_still_offer_what_the_module_uses():
    import moto
    from moto.core import request
    from moto.moto_server import werkzeug_app

    assert moto.__version__ == "5.2.5", "re-check local/inprocess_aws.py against the new moto, then move this pin"
    assert tuple(inspect.signature(werkzeug_app.DomainDispatcherApplication).parameters) == ("create_app",)
    assert tuple(inspect.signature(werkzeug_app.create_backend_app).parameters) == ("service",)
    assert request.PRESERVED_HEADER_NAMES_ENVIRON_KEY == "moto.preserved_header_names"
    handler_source = inspect.getsource(werkzeug_app.MotoRequestHandler.make_environ)
    assert "should_preserve_original_header_name" in handler_source and "PRESERVED_HEADER_NAMES" in handler_source
    assert tuple(inspect.signature(botocore.awsrequest.AWSResponse).parameters) == ("url", "status_code", "headers",
                                                                                    "raw")
    assert isinstance(botocore.handlers.BUILTIN_HANDLERS, list)


class Recorder:
    """A WSGI app that keeps each request's environ and body and answers what it is told to."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if self.fail:
            raise RuntimeError("the embedded AWS broke")
        stream = environ["wsgi.input"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = stream.read() if environ.get("wsgi.input_terminated") else stream.read(length)
        self.seen.append({**{k: v for k, v in environ.items() if isinstance(v, str | int | dict)}, "body": body})
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("X-Repeated", "a"),
                                           ("X-Repeated", "b")])
        return iter([b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",',
                     b'"message":"Requested resource not found"}'])


@pytest.fixture
def recorder_on_loopback():
    """The recorder behind werkzeug's server with moto's request handler, as the embedded AWS runs moto's app."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    recorder = Recorder()
    server = make_server("127.0.0.1", 0, recorder, True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder, server.server_address[1]
    inprocess_aws.uninstall()
    server.shutdown()
    thread.join()


def _client(service: str, port: int) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    return session.client(service, endpoint_url=f"http://127.0.0.1:{port}",
                          config=Config(retries={"total_max_attempts": 1}))


def _calls(s3: Any, dynamodb: Any) -> None:
    for call in (lambda: s3.put_object(Bucket="bucket-one", Key="a b/ü%2F?.txt", Body=b"x" * 70_000,
                                       Metadata={"snake_key": "1", "dashed-key": "2"}),
                 lambda: s3.list_objects_v2(Bucket="bucket-one", Prefix="a b/", MaxKeys=5),
                 lambda: dynamodb.get_item(TableName="missing", Key={"id": {"S": "é"}})):
        with pytest.raises(ClientError):
            call()


def test_the_app_sees_the_environ_the_server_builds_and_botocore_the_same_answer(recorder_on_loopback):
    # Given the same calls made over HTTP (a client created before the install) and in-process
    recorder, port = recorder_on_loopback
    over_http = _client("s3", port), _client("dynamodb", port)
    in_process = inprocess_aws.install(recorder, port)
    direct = _client("s3", port), _client("dynamodb", port)
    # When each client makes them
    _calls(*over_http)
    _calls(*direct)
    # Then the app saw the same requests, and only the second three were answered in-process
    assert in_process.answered == 3 and len(recorder.seen) == 6
    for wire, local in zip(recorder.seen[:3], recorder.seen[3:], strict=True):
        differing = {k for k in wire.keys() | local.keys() if wire.get(k) != local.get(k)} - VARYING
        assert differing == set(), {k: (wire.get(k), local.get(k)) for k in differing}
    assert recorder.seen[0]["HTTP_X_AMZ_META_SNAKE_KEY"] == "1"
    assert recorder.seen[3]["moto.preserved_header_names"] == {"HTTP_X_AMZ_META_SNAKE_KEY": "x-amz-meta-snake_key"}


def test_errors_and_repeated_headers_reach_botocore_as_over_http(recorder_on_loopback):
    recorder, port = recorder_on_loopback
    over_http = _client("dynamodb", port)
    inprocess_aws.install(recorder, port)
    errors = []
    for client in (over_http, _client("dynamodb", port)):
        with pytest.raises(ClientError) as raised:
            client.get_item(TableName="missing", Key={"id": {"S": "x"}})
        errors.append(raised.value.response)
    wire, local = errors
    assert local["Error"] == wire["Error"] == {"Message": "Requested resource not found",
                                               "Code": "ResourceNotFoundException"}
    assert local["ResponseMetadata"]["HTTPStatusCode"] == wire["ResponseMetadata"]["HTTPStatusCode"] == 400
    headers = local["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-repeated"] == wire["ResponseMetadata"]["HTTPHeaders"]["x-repeated"] == "a, b"
    assert set(headers) == set(wire["ResponseMetadata"]["HTTPHeaders"])


def test_an_app_that_raises_is_a_500_as_werkzeugs_server_answers(recorder_on_loopback):
    recorder, port = recorder_on_loopback
    over_http = _client("dynamodb", port)
    inprocess_aws.install(recorder, port)
    recorder.fail = True
    answers = []
    for client in (over_http, _client("dynamodb", port)):
        with pytest.raises(ClientError) as raised:
            client.list_tables()
        answers.append(raised.value.response["ResponseMetadata"]["HTTPStatusCode"])
    assert answers == [500, 500]


def test_after_stop_the_embedded_aws_answers_nothing_in_process():
    # Given a client made while the embedded AWS ran in-process
    aws = EmbeddedAws()
    aws.start()
    try:
        sqs = aws.client("sqs")
        sqs.create_queue(QueueName="kept-in-moto")
        assert inprocess_aws.active() is not None and inprocess_aws.active().answered > 0
    finally:
        aws.stop()
    # When the stack stopped (moto's state is still in memory), Then the client goes over HTTP and finds no server
    assert inprocess_aws.active() is None
    assert all(spec[1] is not inprocess_aws._before_send for spec in botocore.handlers.BUILTIN_HANDLERS)
    with pytest.raises(EndpointConnectionError):
        sqs.get_queue_url(QueueName="kept-in-moto")
