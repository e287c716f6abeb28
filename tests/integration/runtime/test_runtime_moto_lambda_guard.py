"""local/moto_lambda.py replaces one moto-internal method: fail loudly the day moto changes it."""

import inspect

import pytest

from local import moto_lambda

pytestmark = pytest.mark.integration


def test_moto_is_the_pinned_version_and_the_replaced_method_kept_its_signature():
    import moto

    assert moto.__version__ == moto_lambda.EXPECTED_MOTO, "re-check local/moto_lambda.py against the new moto"
    original = moto_lambda._original()
    assert tuple(inspect.signature(original).parameters) == moto_lambda.EXPECTED_PARAMETERS
    moto_lambda.check_compatible()


def test_the_patch_is_installed_once_and_routes_to_the_dispatcher(stack):
    backend_class = moto_lambda.target()
    assert getattr(backend_class.invoke, "__wrapped_moto_invoke__", None) is not None
    moto_lambda.install()  # idempotent
    assert backend_class.invoke.__wrapped_moto_invoke__.__qualname__ == "LambdaSimpleBackend.invoke"


def test_plain_arn_lambda_tasks_name_lambda_service_errors_as_aws_does(stack):
    task_class = moto_lambda.task_target()
    original = task_class._from_error.__wrapped_moto_from_error__
    assert original.__qualname__ == "StateTaskLambda._from_error"
    assert tuple(inspect.signature(original).parameters) == moto_lambda.EXPECTED_FROM_ERROR


def test_a_throttled_async_invocation_is_retried_until_a_slot_frees():
    from local.concurrency import Throttled

    calls = []

    def dispatcher(arn, invocation_type, raw):
        calls.append(invocation_type)
        if len(calls) < 3:
            raise Throttled("busy")
        return b"null", None

    moto_lambda._dispatch_async(dispatcher, "arn:aws:lambda:us-east-1:123456789012:function:f", b"{}")
    assert calls == ["Event"] * 3
