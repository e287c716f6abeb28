"""The one place the local stack reaches into moto: Lambda invocations (from Step Functions tasks and from
boto3 lambda.invoke) go to the in-process handlers instead of moto's "simple" Lambda.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_moto_lambda_guard.py fails loudly if the
method we replace changes its name or signature.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

EXPECTED_MOTO = "5.2.5"
EXPECTED_PARAMETERS = ("self", "function_name", "qualifier", "body", "headers", "response_headers")
# (function name or ARN, invocation type, payload bytes) -> (payload bytes, function error or None)
Dispatcher = Callable[[str, str, bytes], tuple[bytes, str | None]]
_dispatcher: Dispatcher | None = None


def target() -> Any:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    return LambdaSimpleBackend


def check_compatible() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_lambda.py was written for moto {EXPECTED_MOTO}, found {moto.__version__}")
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_PARAMETERS:
        raise RuntimeError(f"moto LambdaSimpleBackend.invoke changed signature: {params}")


def _original() -> Any:
    invoke = target().invoke
    return getattr(invoke, "__wrapped_moto_invoke__", invoke)


def install() -> None:
    """Idempotent."""
    backend = target()
    if getattr(backend.invoke, "__wrapped_moto_invoke__", None):
        return
    check_compatible()
    original = backend.invoke

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> bytes | None:
        if _dispatcher is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        fn = self.get_function(function_name, qualifier)  # moto's own "function not found" error
        invocation_type = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
        raw = body if isinstance(body, bytes) else (body or "").encode()
        if invocation_type == "Event":
            threading.Thread(target=_dispatcher, args=(fn.function_arn, invocation_type, raw), daemon=True).start()
            return b""
        payload, function_error = _dispatcher(fn.function_arn, invocation_type, raw)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        response_headers["Content-Length"] = str(len(payload))
        return payload

    invoke.__wrapped_moto_invoke__ = original  # type: ignore[attr-defined]
    backend.invoke = invoke


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher
