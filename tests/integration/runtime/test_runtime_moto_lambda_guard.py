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
