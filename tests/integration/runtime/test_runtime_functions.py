"""The in-process Lambda: per-function environments, reserved concurrency, Lambda's error shape."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

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


def test_the_process_environment_is_untouched_outside_functions(stack):
    import os

    assert "PROBE_VALUE" not in os.environ
    assert os.environ.get("AWS_ENDPOINT_URL") != stack.aws.url


def test_reserved_concurrency_is_honoured(stack):
    with ThreadPoolExecutor(max_workers=6) as pool:
        peaks = [f.result()["peak"] for f in [pool.submit(stack.invoke, "LimitedFunction", {"hold": 0.1})
                                               for _ in range(6)]]
    assert max(peaks) == 2


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
