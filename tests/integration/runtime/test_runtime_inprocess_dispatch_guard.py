"""local/inprocess_dispatch.py: moto's handlers called without Flask answer exactly what Flask's application
answers (status, headers, body), for every protocol the stack speaks (JSON, query, REST-XML, REST-JSON), for
successes, service errors and HEAD; the moto and flask-cors versions it was written for are pinned."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import inprocess_aws, inprocess_dispatch

pytestmark = pytest.mark.integration
# differ between any two requests, whoever answers them: request ids, the date, and checksums over bodies holding them
VARYING_HEADERS = {"date", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "x-amz-crc32"}
REQUEST_ID = re.compile(r"(<RequestId>|\"RequestId\":\s*\"|<HostId>)[^<\"]*")


def test_the_versions_it_was_written_for_are_installed():
    inprocess_dispatch.check_compatible()


def _answer(call: Callable[[], Any]) -> tuple[int, dict[str, str], str]:
    """What botocore got back: the status, the headers that do not vary per request, and the raw body."""
    captured: list[Any] = []
    active = inprocess_aws.active()
    assert active is not None
    original, caller = active.call, threading.get_ident()

    def keeping(environ: dict[str, Any]) -> Any:
        answer = original(environ)
        if threading.get_ident() == caller:  # the stack's pollers call too, on their own threads
            captured.append(answer)
        return answer

    active.call = keeping  # type: ignore[method-assign]
    try:
        call()
    except ClientError:
        pass
    finally:
        del active.call
    status, headers, body = captured[-1]
    kept = {name.lower(): value for name, value in headers if name.lower() not in VARYING_HEADERS}
    return status, kept, REQUEST_ID.sub(r"\1", body.decode("utf-8", "replace"))


def _calls(stack: Any) -> dict[str, Callable[[], Any]]:
    ddb, sqs, s3, sfn = (stack.client(s) for s in ("dynamodb", "sqs", "s3", "stepfunctions"))
    events, secrets, lam, ssm = (stack.client(s) for s in ("events", "secretsmanager", "lambda", "ssm"))
    table = ddb.list_tables()["TableNames"][0]
    key = ddb.describe_table(TableName=table)["Table"]["KeySchema"]
    item = {k["AttributeName"]: {"S": f"guard-{k['KeyType']}"} for k in key}
    ddb.put_item(TableName=table, Item=item)
    bucket = f"guard-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="guard/object.txt", Body=b"guarded")
    queue = sqs.list_queues()["QueueUrls"][0]
    return {
        "dynamodb describe_table": lambda: ddb.describe_table(TableName=table),
        "dynamodb get_item": lambda: ddb.get_item(TableName=table, Key=item),
        "dynamodb put_item": lambda: ddb.put_item(TableName=table, Item=item),
        "dynamodb conditional failure": lambda: ddb.put_item(TableName=table, Item=item,
                                                             ConditionExpression="attribute_not_exists(#k)",
                                                             ExpressionAttributeNames={"#k": key[0]["AttributeName"]}),
        "dynamodb validation error": lambda: ddb.update_item(TableName=table, Key=item, UpdateExpression="SET = 1"),
        "dynamodb missing table": lambda: ddb.get_item(TableName="missing", Key=item),
        "sqs get_queue_attributes": lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"]),
        "sqs missing queue": lambda: sqs.get_queue_url(QueueName=f"missing-{uuid.uuid4().hex[:6]}"),
        "s3 get_object": lambda: s3.get_object(Bucket=bucket, Key="guard/object.txt"),
        "s3 head_object": lambda: s3.head_object(Bucket=bucket, Key="guard/object.txt"),
        "s3 head missing": lambda: s3.head_object(Bucket=bucket, Key="guard/missing.txt"),
        "s3 list_objects_v2": lambda: s3.list_objects_v2(Bucket=bucket, Prefix="guard/"),
        "s3 missing key": lambda: s3.get_object(Bucket=bucket, Key="guard/missing.txt"),
        "stepfunctions list_state_machines": lambda: sfn.list_state_machines(),
        "stepfunctions missing execution": lambda: sfn.describe_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:missing:x"),
        "events list_rules": lambda: events.list_rules(),
        "secretsmanager missing secret": lambda: secrets.get_secret_value(SecretId="missing/guard"),
        "lambda list_functions": lambda: lam.list_functions(MaxItems=2),
        "lambda missing function": lambda: lam.get_function(FunctionName="missing-guard"),
        "ssm missing parameter": lambda: ssm.get_parameter(Name="/missing/guard"),
    }


def test_answers_without_flask_are_flasks_answers(stack):
    active = inprocess_aws.active()
    assert active is not None and active.direct
    differing = {}
    try:
        for name, call in _calls(stack).items():
            active.direct = False
            through_flask = _answer(call)
            active.direct = True
            direct = _answer(call)
            if direct != through_flask:
                differing[name] = (through_flask, direct)
    finally:
        active.direct = True
    assert differing == {}


def test_requests_flask_must_answer_go_through_flask(stack, monkeypatch):
    # Given a request with an Origin (CORS answers it), and one no route of its service takes
    active = inprocess_aws.active()
    called = []
    monkeypatch.setattr(inprocess_dispatch, "answer", lambda *a: called.append(a) or (500, [], b""))
    ddb = stack.client("dynamodb")
    ddb.meta.events.register_first("before-send.dynamodb.ListTables",
                                   lambda request, **_: request.headers.__setitem__("Origin", "https://console"))
    # When they are made, then Flask answers them: the direct path is never taken
    assert "TableNames" in ddb.list_tables()
    environ = active.environ(_request("GET", f"http://127.0.0.1:{active.port}/no/such/route"))
    app = active.app.get_application(environ)
    assert inprocess_dispatch.handler(app, environ) is None
    assert called == []


def _request(method: str, url: str) -> Any:
    from botocore.awsrequest import AWSRequest

    signed_for_dynamodb = ("AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/dynamodb/aws4_request, "
                           "SignedHeaders=host, Signature=0")
    return AWSRequest(method=method, url=url, headers={"Host": url.split("/")[2],
                                                      "Authorization": signed_for_dynamodb,
                                                      "X-Amz-Target": "DynamoDB_20120810.ListTables"}).prepare()
