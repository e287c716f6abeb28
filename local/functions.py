"""The in-process "Lambda": each function of the template, its handler imported from its CodeUri like a cold
start, invoked with its own configuration, a LambdaContext, its reserved concurrency and Lambda's error shape.

Several functions share this process, so a function's environment cannot be os.environ: the function's
environment (as Lambda would set it) is parsed into its own `erphub.settings.Settings` once, and each cold start
and invocation runs with those settings installed (`invocation_settings`, a ContextVar on the invoking thread).
What every function of the template has in common (endpoint, region, credentials, the Globals' Powertools
variables) is also the process environment while the stack runs (`shared_environment`), for the libraries
that read os.environ themselves (Powertools, moto's Step Functions interpreter)."""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from local import log_context
from local.concurrency import ReservedConcurrency
from local.embedded_aws import FAKE_CREDENTIALS

HUB_LAYER = Path(__file__).resolve().parent.parent / "layers" / "hub" / "python"
_IMPORT_LOCK = threading.RLock()  # sys.path and sys.modules are process-global
# the logical id of the function whose code runs in this context (its cold start or an invocation)
current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_function", default=None)


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str  # "module.func" (module may be dotted: "pkg/app.handler" forms are normalised)
    layers: list[Path]
    variables: dict[str, str]
    timeout: float = 3.0
    memory: int = 128
    reserved: int | None = None
    properties: dict[str, Any] = field(default_factory=dict)


class Invocation:
    """A handler's answer as Lambda returns it: JSON bytes (serialised once; decoded only for a caller that
    reads the payload), or Lambda's {"errorType", "errorMessage", "stackTrace"} when FunctionError."""

    def __init__(self, raw: bytes, error: dict[str, Any] | None = None) -> None:
        self.raw, self.error = raw, error

    @classmethod
    def of(cls, result: Any) -> Invocation:
        return cls(json.dumps(result).encode())

    @cached_property
    def payload(self) -> Any:
        return None if self.error else json.loads(self.raw)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def payload_bytes(self) -> bytes:
        return json.dumps(self.error).encode() if self.error else self.raw


class LambdaContext:
    """What the Python runtime hands a handler as `context`."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _settings_module() -> Any:
    """erphub.settings from the functions' layer (the module their handlers import), else from this repository's
    layer: the stack gives every function its configuration through it, even a function without the layer."""
    try:
        from erphub import settings
    except ModuleNotFoundError:
        sys.path.append(str(HUB_LAYER))
        from erphub import settings
    return settings


class Function:
    def __init__(self, spec: FunctionSpec, endpoint_url: str) -> None:
        self.spec = spec
        self.environment = self._environment(endpoint_url)
        self._handler: Any = None
        self.concurrency = ReservedConcurrency(spec.name, spec.reserved)
        self.invocations = 0
        self.busy_seconds = 0.0  # wall time in the handler (on a shared machine: also time waiting for the CPU)
        self.cpu_seconds = 0.0  # CPU time of the handler's thread: what the code itself costs
        self.sqs_messages = 0  # messages an SQS event source mapping handed over, what SQS bills receives for

    def _environment(self, endpoint_url: str) -> dict[str, str]:
        spec = self.spec
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        runtime = {"AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                   "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory), "AWS_EXECUTION_ENV": "AWS_Lambda_python_local",
                   "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}", "LAMBDA_TASK_ROOT": str(spec.code_dir),
                   "_HANDLER": spec.handler, "AWS_ENDPOINT_URL": endpoint_url,
                   "AWS_XRAY_SDK_ENABLED": "false"}  # no X-Ray daemon locally
        return {**base, **FAKE_CREDENTIALS, **runtime, **{k: str(v) for k, v in spec.variables.items()}}

    def handler(self) -> Any:
        """Import the handler module once, on first use (a cold start), under a module name unique to the function."""
        if self._handler is None:
            with _IMPORT_LOCK:
                if self._handler is None:
                    self._handler = self._import()
        return self._handler

    @cached_property
    def _settings(self) -> tuple[Any, Any]:
        """The function's environment parsed into its own Settings, on its cold start (its layers go on sys.path
        then, not while the stack starts), and the context manager that installs them."""
        with _IMPORT_LOCK:
            for layer in reversed(self.spec.layers):
                if str(layer) not in sys.path:
                    sys.path.insert(0, str(layer))
            module = _settings_module()
            return module.Settings.from_env(self.environment), module.invocation_settings

    @property
    def settings(self) -> Any:
        return self._settings[0]

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """Around a cold start or an invocation: this function's settings, its own logging and metrics state."""
        settings, installed = self._settings
        running = current_function.set(self.spec.logical_id)
        try:
            with installed(settings), log_context.invocation():
                yield
        finally:
            current_function.reset(running)

    def _import(self) -> Any:
        self._settings  # noqa: B018 - first: the layers go on sys.path before the function's own directory
        spec = self.spec
        module_path, _, func_name = spec.handler.rpartition(".")
        file = spec.code_dir / (module_path.replace(".", "/") + ".py")
        module_name = f"_local_fn_{spec.logical_id}_{module_path.replace('/', '_').replace('.', '_')}"
        import_spec = importlib.util.spec_from_file_location(module_name, file)
        if import_spec is None or import_spec.loader is None:
            raise ImportError(f"cannot import handler {spec.handler} of {spec.logical_id} from {file}")
        module = importlib.util.module_from_spec(import_spec)
        sys.path.insert(0, str(spec.code_dir))  # sibling modules of app.py, as in the Lambda task root
        try:
            with self._running():
                sys.modules[module_name] = module
                import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        finally:
            sys.path.remove(str(spec.code_dir))
        return getattr(module, func_name)

    def invoke(self, event: Any, *, decoded: bool = False) -> Invocation:
        """Raises Throttled over the reserved concurrency, at once, as Lambda does (callers retry, not queue).
        decoded: the event was just decoded from the wire, the caller keeps no reference to it."""
        with self.concurrency.slot():
            return self._run(event if decoded else json.loads(json.dumps(event)))  # the handler's own copy

    def _run(self, event: Any) -> Invocation:
        self.invocations += 1
        self.sqs_messages += _sqs_messages(event)
        context = LambdaContext(self.spec)
        try:
            handler = self.handler()
            started, cpu = time.monotonic(), time.thread_time()
            try:
                with self._running():
                    result = handler(event, context)
            finally:
                self.busy_seconds += time.monotonic() - started
                self.cpu_seconds += time.thread_time() - cpu
            return Invocation.of(result)
        except Exception as exc:
            # as the Lambda runtime does, the error goes to the function's log before it is returned
            print(json.dumps({"level": "ERROR", "function": self.spec.logical_id, "errorType": type(exc).__name__,
                              "errorMessage": str(exc), "stackTrace": traceback.format_exception(exc)}),
                  file=sys.stderr)
            return Invocation(b"null", {"errorType": type(exc).__name__, "errorMessage": str(exc),
                                        "stackTrace": traceback.format_exception(exc)[-5:]})


def _sqs_messages(event: Any) -> int:
    records = event.get("Records") if isinstance(event, dict) else None
    return sum(1 for r in records if isinstance(r, dict) and r.get("eventSource") == "aws:sqs") if records else 0


class Functions:
    """Every function of a template, found by logical id, name or ARN."""

    def __init__(self, specs: list[FunctionSpec], endpoint_url: str) -> None:
        self.by_id = {spec.logical_id: Function(spec, endpoint_url) for spec in specs}
        self._lookup: dict[str, Function] = {}
        for fn in self.by_id.values():
            for key in (fn.spec.logical_id, fn.spec.name, fn.spec.arn):
                self._lookup[key] = fn

    @contextlib.contextmanager
    def shared_environment(self) -> Iterator[dict[str, str]]:
        """The variables every function has with the same value, set in os.environ while the stack runs (for
        libraries that read it themselves), then put back as they were."""
        environments = [fn.environment for fn in self.by_id.values()]
        shared = dict(set.intersection(*(set(env.items()) for env in environments))) if environments else {}
        previous = {name: os.environ.get(name) for name in shared}
        os.environ.update(shared)
        try:
            yield shared
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def get(self, name_or_arn: str) -> Function:
        key = name_or_arn.removesuffix(":$LATEST")
        if key in self._lookup:
            return self._lookup[key]
        raise KeyError(f"no function {name_or_arn!r} in the template")

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        return self.get(name_or_arn).invoke(event)

    def dispatch(self, function_arn: str, invocation_type: str, body: bytes) -> tuple[bytes, str | None]:
        """moto_lambda's dispatcher: payload bytes in, payload bytes and FunctionError out (Throttled raised:
        moto_lambda answers it with Lambda's 429)."""
        event = json.loads(body) if body else {}
        result = self.get(function_arn).invoke(event, decoded=True)
        return result.payload_bytes(), "Unhandled" if result.failed else None

    def preload(self, stopping: threading.Event) -> None:
        """Import every handler (in a background thread at start: later first invocations are warm), until stopping."""
        for fn in self.by_id.values():
            if stopping.is_set():
                return
            try:
                fn.handler()
            except Exception:  # noqa: S112 - the error is reported on the function's first invocation
                continue
