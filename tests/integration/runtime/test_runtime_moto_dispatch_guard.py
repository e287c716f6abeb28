"""local/moto_dispatch.py replaces one moto-internal method: fail loudly the day moto changes it."""

import inspect

import pytest

from local import moto_dispatch

pytestmark = pytest.mark.integration


def test_moto_is_the_pinned_version_and_the_replaced_method_kept_its_signature():
    import moto

    assert moto.__version__ == moto_dispatch.EXPECTED_MOTO, "re-check local/moto_dispatch.py against the new moto"
    assert tuple(inspect.signature(moto_dispatch._original()).parameters) == moto_dispatch.EXPECTED_PARAMETERS
    assert tuple(inspect.signature(moto_dispatch._original_method_names()).parameters) == (
        moto_dispatch.EXPECTED_METHOD_NAMES)
    moto_dispatch.check_compatible()


def test_a_response_class_s_action_methods_are_found_once_and_are_moto_s(stack):
    from moto.dynamodb.responses import DynamoHandler

    moto_dispatch.install()
    names = moto_dispatch.responses_target().method_names_from_class
    assert names.__wrapped_moto_dispatch__.__qualname__ == "method_names_from_class"
    assert names(DynamoHandler) is names(DynamoHandler)
    assert names(DynamoHandler) == names.__wrapped_moto_dispatch__(DynamoHandler) and "put_item" in names(DynamoHandler)


def test_a_host_is_resolved_once_to_the_backend_moto_would_choose(stack):
    # Given the stack installed the patch (idempotently)
    moto_dispatch.install()
    dispatcher = moto_dispatch.target()
    original = dispatcher.get_backend_for_host.__wrapped_moto_dispatch__
    assert original.__qualname__ == "DomainDispatcherApplication.get_backend_for_host"
    app = dispatcher.__new__(dispatcher)
    app.backend_url_patterns = __import__("moto.backend_index", fromlist=["x"]).backend_url_patterns
    # When hosts are resolved through the patch
    for host in ("dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "lambda.us-east-1.amazonaws.com",
                 "states.us-east-1.amazonaws.com", "moto_api"):
        # Then the answer is moto's own, every time
        assert app.get_backend_for_host(host) == original(app, host) == app.get_backend_for_host(host)
    assert app.get_backend_for_host(None) is None


def test_the_stack_still_serves_every_service_it_uses(stack):
    assert stack.client("dynamodb").list_tables()["TableNames"]
    assert stack.client("sqs").list_queues()["QueueUrls"]
    assert stack.client("stepfunctions").list_state_machines()["stateMachines"]
    assert "Functions" in stack.client("lambda").list_functions()
