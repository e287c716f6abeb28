"""local/moto_sfn.py replaces two moto-internal functions: fail loudly the day moto changes them, and show that
executions still run their own state (retries, catches, task tokens) with the parse and the client shared."""

import inspect
import json
import uuid

import pytest

from local import moto_sfn, moto_sfn_tokens

pytestmark = pytest.mark.integration


def test_moto_is_the_pinned_version_and_the_replaced_functions_kept_their_signatures():
    import moto

    assert moto.__version__ == moto_sfn.EXPECTED_MOTO, "re-check local/moto_sfn.py against the new moto"
    assert tuple(inspect.signature(moto_sfn._original_parse()).parameters) == moto_sfn.EXPECTED_PARSE
    assert tuple(inspect.signature(moto_sfn._original_client()).parameters) == moto_sfn.EXPECTED_CLIENT
    moto_sfn.check_compatible()
    # a retried callback Task mints a new token per attempt (local/moto_sfn_tokens.py)
    assert tuple(inspect.signature(moto_sfn_tokens._original()).parameters) == moto_sfn_tokens.EXPECTED_EVALUATE
    # and SendTaskFailure passes its cause on (moto's handler reads only the error)
    assert moto_sfn_tokens.drops_the_cause()


def test_a_definition_is_parsed_once_and_a_lambda_client_is_shared(stack):
    # Given the stack installed the patches (idempotently)
    moto_sfn.install()
    parse = moto_sfn.parser_target().parse
    assert parse.__wrapped_moto_parse__.__qualname__ == "AmazonStateLanguageParser.parse"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    # When the same definition is parsed twice, and a client asked for twice
    first, second = parse(definition), parse(definition)
    client = moto_sfn.lambda_utils_target().boto_client_for
    # Then the second parse and client are the first ones, and another definition is parsed anew
    assert first is second and parse(definition.replace("Done", "End")) is not first
    assert client(region="us-east-1", service="lambda") is client(region="us-east-1", service="lambda")


def test_concurrent_executions_of_one_parsed_machine_keep_their_own_retries_and_catches(stack, collect):
    sfn = stack.client("stepfunctions")
    orders = [uuid.uuid4().hex[:8] for _ in range(3)]
    # Given three executions of the same machine at once (one parsed program, one shared Lambda client)
    arns = [stack.start_execution("OrderStateMachine", {"order": order}) for order in orders]
    tokens = collect("TokenQueue", lambda m: m.get("order") in orders, 3, timeout=30)
    for message in tokens:
        sfn.send_task_success(taskToken=message["token"], output=json.dumps({"approved": True}))
    # Then each retried its own failing task three times and caught its own error
    for arn in arns:
        result = stack.wait_until(lambda a=arn: (d := sfn.describe_execution(executionArn=a))["status"] != "RUNNING"
                                  and d, timeout=20)
        output = json.loads(result["output"])
        assert result["status"] == "SUCCEEDED" and output["reserved"] == {"attempts": 3}
        assert output["error"]["Error"] == "Rejected" and output["compensation"] == "released"
