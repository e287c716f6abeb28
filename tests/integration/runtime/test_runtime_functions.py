"""The in-process Lambda: per-function environments, reserved concurrency, Lambda's error shape."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from local.stack import FunctionError

pytestmark = pytest.mark.integration


def test_each_function_sees_its_own_environment_under_concurrency(stack):
    # Given two functions of the same code with different PROBE_VALUE
    # When both run at once, many times
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(stack.invoke, name, {"rounds": 15})
                   for _ in range(12) for name in ("EnvProbeAFunction", "EnvProbeBFunction")]
        results = [f.result() for f in futures]
    # Then each only ever saw its own value (Join/FindInMap and If/Condition resolved)
    by_function = {}
    for result in results:
        by_function.setdefault(result["function"], set()).update(result["seen"])
    assert by_function == {stack.physical("EnvProbeAFunction"): {"alpha-t"},
                           stack.physical("EnvProbeBFunction"): {"beta"}}
    assert all(r["context"] == r["function"] and r["endpoint"] == stack.aws.url and r["stage"] == "test"
               for r in results)


def test_the_process_environment_holds_only_what_every_function_shares(stack):
    # a variable of one function is that function's alone; what all share (endpoint, stage) is the process's,
    # for the libraries that read os.environ themselves (Powertools, moto's Step Functions interpreter)
    import os

    from erphub.settings import get_settings

    assert "PROBE_VALUE" not in os.environ and "PROBE_VALUE" not in get_settings().environment
    assert os.environ.get("AWS_ENDPOINT_URL") == stack.aws.url and os.environ.get("STAGE") == "test"


def test_an_invocation_over_the_reserved_concurrency_is_throttled_at_once(stack):
    # Given a function with ReservedConcurrentExecutions 2, each invocation holding for 0.5 s
    import boto3
    from botocore.config import Config

    # (the SDK's own retries off, to see what Lambda answers)
    awslambda = boto3.client("lambda", endpoint_url=stack.aws.url, region_name=stack.template.region,
                             aws_access_key_id="testing", aws_secret_access_key="testing",
                             config=Config(retries={"total_max_attempts": 1}))
    name = stack.physical("LimitedFunction")

    def call():
        started = time.monotonic()
        try:
            response = awslambda.invoke(FunctionName=name, Payload=json.dumps({"hold": 0.5}))
            return "ok", json.loads(response["Payload"].read())["peak"], time.monotonic() - started
        except ClientError as exc:
            return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"], \
                time.monotonic() - started

    # When six arrive at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: call(), range(6)))
    # Then two run and the other four get Lambda's 429 without waiting for a slot, as on AWS
    ran = [r for r in results if r[0] == "ok"]
    throttled = [r for r in results if r[0] == "TooManyRequestsException"]
    assert len(ran) == 2 and max(r[1] for r in ran) == 2
    assert len(throttled) == 4 and all(r[1] == 429 and r[2] < 0.4 for r in throttled)


def test_a_handler_exception_is_a_function_error_named_after_its_class(stack):
    with pytest.raises(FunctionError) as raised:
        stack.invoke("RejectingFunction", {"order": "o-1"})
    assert raised.value.error_type == "Rejected"
    assert raised.value.error_message == "card declined for o-1"


def test_boto3_lambda_invoke_reaches_the_in_process_handler(stack):
    awslambda = stack.client("lambda")
    ok = awslambda.invoke(FunctionName=stack.physical("EnvProbeBFunction"), Payload=json.dumps({"rounds": 1}))
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["seen"] == ["beta"]
    failed = awslambda.invoke(FunctionName=stack.physical("RejectingFunction"), Payload=json.dumps({"order": "x"}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "Rejected"
