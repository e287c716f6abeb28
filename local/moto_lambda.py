"""The one place the local stack reaches into moto: Lambda invocations (from Step Functions tasks and from
boto3 lambda.invoke) go to the in-process handlers instead of moto's "simple" Lambda, and a throttled one is
Lambda's 429 TooManyRequestsException, which a Step Functions Task names `Lambda.TooManyRequestsException`
as AWS does (moto's interpreter names any Lambda service error of a plain-ARN Task just "Exception").

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_lambda_guard.py fails loudly if the
methods we replace change their name or signature.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from local import pinned
from local.concurrency import Throttled

EXPECTED_MOTO = "5.2.5"
EXPECTED_PARAMETERS = ("self", "function_name", "qualifier", "body", "headers", "response_headers")
EXPECTED_FROM_ERROR = ("self", "env", "ex")
ASYNC_THROTTLE_RETRY_SECONDS = 60.0  # Lambda keeps a throttled async event queued and retries it (6 h on AWS)
# (function name or ARN, invocation type, payload bytes) -> (payload bytes, function error or None)
Dispatcher = Callable[[str, str, bytes], tuple[bytes, str | None]]
_dispatcher: Dispatcher | None = None


def target() -> Any:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    return LambdaSimpleBackend


def task_target() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    return StateTaskLambda


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_PARAMETERS:
        raise RuntimeError(f"moto LambdaSimpleBackend.invoke changed signature: {params}")
    params = tuple(inspect.signature(_original_from_error()).parameters)
    if params != EXPECTED_FROM_ERROR:
        raise RuntimeError(f"moto StateTaskLambda._from_error changed signature: {params}")


def _original() -> Any:
    invoke = target().invoke
    return getattr(invoke, "__wrapped_moto_invoke__", invoke)


def _original_from_error() -> Any:
    from_error = task_target()._from_error
    return getattr(from_error, "__wrapped_moto_from_error__", from_error)


def install() -> None:
    """Idempotent."""
    backend = target()
    if getattr(backend.invoke, "__wrapped_moto_invoke__", None):
        return
    check_compatible()
    _install_lambda_error_names()
    original = backend.invoke

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> bytes | None:
        if _dispatcher is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        fn = self.get_function(function_name, qualifier)  # moto's own "function not found" error
        invocation_type = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
        raw = body if isinstance(body, bytes) else (body or "").encode()
        if invocation_type == "Event":
            threading.Thread(target=_dispatch_async, args=(_dispatcher, fn.function_arn, raw), daemon=True).start()
            return b""
        try:
            payload, function_error = _dispatcher(fn.function_arn, invocation_type, raw)
        except Throttled as exc:
            raise _too_many_requests(exc) from exc
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        response_headers["Content-Length"] = str(len(payload))
        return payload

    invoke.__wrapped_moto_invoke__ = original  # type: ignore[attr-defined]
    backend.invoke = invoke


def _too_many_requests(exc: Throttled) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(exc.error_code, str(exc))
    error.code = 429
    error.description = json.dumps({"__type": exc.error_code, "message": str(exc), "Reason": exc.reason,
                                    "Type": "User"})
    return error


def _dispatch_async(dispatcher: Dispatcher, function_arn: str, raw: bytes) -> None:
    deadline, delay = time.monotonic() + ASYNC_THROTTLE_RETRY_SECONDS, 0.1
    while True:
        try:
            dispatcher(function_arn, "Event", raw)
            return
        except Throttled as exc:
            if time.monotonic() > deadline:  # AWS would keep it up to 6 h, then its on-failure destination
                print(f"[local] async invocation of {function_arn} dropped, throttled for "
                      f"{ASYNC_THROTTLE_RETRY_SECONDS:.0f} s: {exc}")
                return
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _install_lambda_error_names() -> None:
    """A Lambda service error (a ClientError such as the 429) of a plain-ARN Task is `Lambda.<Code>`."""
    task = task_target()
    if getattr(task._from_error, "__wrapped_moto_from_error__", None):
        return
    original = task._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        from botocore.exceptions import ClientError
        from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName

        failure = original(self, env, ex)
        if isinstance(ex, ClientError):
            name = f"Lambda.{ex.response['Error']['Code']}"
            failure.error_name = CustomErrorName(name)
            details = (failure.event_details or {}).get("lambdaFunctionFailedEventDetails")
            if details is not None:
                details["error"] = name
        return failure

    from_error.__wrapped_moto_from_error__ = original  # type: ignore[attr-defined]
    task._from_error = from_error


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher
