"""Per-invocation Powertools state (logger keys, metrics, the REST resolver's request, the batch processor's
batch) and whole-line writes, for functions that share one process.

On Lambda every concurrent invocation has its own execution environment, so Powertools keeps its state in
plain instance and class attributes: the Logger formatter's keys (function_name, correlation_id, whatever
`append_keys` added) and the EMF provider's metric, dimension and metadata sets. Locally, concurrent
invocations are threads of one process sharing those objects: one invocation's keys ended up on another's
lines and one's metrics were flushed by another. And `print` (how Powertools emits EMF) writes the text and
the newline separately, so two threads' output could share a line.

The same holds for the REST resolver: `ApiGatewayResolver.resolve` stores the request in class attributes
(`BaseRouter.current_event`, `lambda_context`), so a route of one request could read another's event. And for
the batch processor a consumer keeps at module level: `BatchProcessor` holds the batch it processes and its
successes and failures in instance attributes, so two event sources invoking one function at once (the KPI
projector reads two streams) processed each other's records and reported each other's failures: a record was
skipped, or an SQS message another batch failed was deleted.

`install()` makes those attributes per invocation (a data descriptor backed by a ContextVar: an invocation
starts from a copy of the state the object had outside any invocation, i.e. after its construction) and
makes stdout/stderr write whole lines. `invocation()` opens the scope; local/functions.py opens one around
every handler call and cold start. The Lambda code is unchanged and does not know (DESIGN rule 14).
Threads a handler starts itself run outside any scope and share the state, as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
from collections.abc import Iterator
from typing import Any

EXPECTED_POWERTOOLS = "3.37.0"
# (module, class, attributes): what Powertools 3.x keeps per execution environment and mutates per invocation
_EMF = "aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch"
_BATCH = "aws_lambda_powertools.utilities.batch.base"
PER_INVOCATION: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("aws_lambda_powertools.logging.formatter", "LambdaPowertoolsFormatter", ("log_format",)),
    (_EMF, "AmazonCloudWatchEMFProvider", ("metric_set", "dimension_set", "metadata_set", "dimension_sets",
                                           "timestamp")),
    # a module-level BatchProcessor (every consumer of the hub has one) holds the batch being processed
    (_BATCH, "BasePartialProcessor", ("records", "handler", "lambda_context", "_handler_accepts_lambda_context",
                                      "success_messages", "fail_messages", "exceptions")),
    (_BATCH, "BasePartialBatchProcessor", ("batch_response",)),
    ("aws_lambda_powertools.utilities.batch.sqs_fifo_partial_processor", "SqsFifoPartialProcessor",
     ("_current_group_id", "_failed_group_ids")),
    # the REST resolver's routing context: the matched route, its arguments, the parsed request, and what
    # append_context adds (the operator API's verified caller); resolve() clears it at the end of each request
    ("aws_lambda_powertools.event_handler.api_gateway", "ApiGatewayResolver", ("context",)),
)
# class attributes the REST resolver sets per request (BaseRouter.current_event = ...), shared by every app
_ROUTER: tuple[str, str, tuple[str, ...]] = (
    "aws_lambda_powertools.event_handler.api_gateway", "BaseRouter", ("current_event", "lambda_context"))
_state: contextvars.ContextVar[dict[tuple[int, str], Any] | None] = contextvars.ContextVar("invocation_state",
                                                                                           default=None)
_WRITE_LOCK = threading.Lock()  # one for stdout and stderr: a terminal shows both


class PerInvocation:
    """A data descriptor: inside an invocation the attribute is that invocation's own copy; outside, the
    instance's. The first assignment (the constructor's, or a batch processor's first batch) always sets the
    instance's value, and inside an invocation also that invocation's."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            base = obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None
        state = _state.get()
        if state is None:
            return base
        key = (id(obj), self.name)
        if key not in state:
            state[key] = _copy(base)
        return state[key]

    def __set__(self, obj: Any, value: Any) -> None:
        state = _state.get()
        if self.name not in obj.__dict__ or state is None:
            obj.__dict__[self.name] = value
        if state is not None:  # also the first: two invocations may both find the attribute unset
            state[(id(obj), self.name)] = value


class PerInvocationClassAttribute:
    """A class attribute whose value, set on the class or an instance inside an invocation, is that
    invocation's; outside any invocation, one shared value. Class-level assignment reaches it through
    _PerInvocationMeta, the owner's metaclass once installed."""

    def __init__(self, name: str, value: Any = None) -> None:
        self.name, self.shared = name, value

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        state = _state.get()
        if state is not None and (id(self), self.name) in state:
            return state[(id(self), self.name)]
        return self.shared

    def __set__(self, obj: Any, value: Any) -> None:
        state = _state.get()
        if state is None:
            self.shared = value
        else:
            state[(id(self), self.name)] = value


def _copy(value: Any) -> Any:
    """Containers copied, leaves shared: the formatter's keys hold bound methods that must stay bound to it."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return value


@contextlib.contextmanager
def invocation() -> Iterator[None]:
    """One invocation's scope: its Powertools keys and metrics are its own and go when it ends."""
    token = _state.set({})
    try:
        yield
    finally:
        _state.reset(token)


class _PerInvocationMeta(type):
    def __setattr__(cls, name: str, value: Any) -> None:
        attribute = vars(cls).get(name)
        if isinstance(attribute, PerInvocationClassAttribute):
            attribute.__set__(None, value)
        else:
            super().__setattr__(name, value)


class LineAtomicStream:
    """Writes whole lines only: what a thread writes is held until its newline, then written in one call under
    one lock, so lines of concurrent threads never interleave. Everything else is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self.wrapped = stream
        self._pending = threading.local()

    def write(self, text: str) -> int:
        held = getattr(self._pending, "text", "") + text
        lines, newline, rest = held.rpartition("\n")
        self._pending.text = rest
        if newline:
            with _WRITE_LOCK:
                self.wrapped.write(lines + newline)
        return len(text)

    def flush(self) -> None:
        held, self._pending.text = getattr(self._pending, "text", ""), ""
        with _WRITE_LOCK:
            if held:  # an explicit flush of a partial line (a prompt) writes it as it is
                self.wrapped.write(held)
            self.wrapped.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def check_compatible() -> None:
    """Fail loudly when Powertools no longer keeps its per-invocation state where this module expects it."""
    import importlib
    import inspect
    import re

    from aws_lambda_powertools.shared.version import VERSION

    if VERSION != EXPECTED_POWERTOOLS:
        raise RuntimeError(f"local/log_context.py was written for Powertools {EXPECTED_POWERTOOLS}, found {VERSION}")
    for module_name, class_name, attributes in PER_INVOCATION:
        source = inspect.getsource(getattr(importlib.import_module(module_name), class_name))
        missing = [a for a in attributes if not re.search(rf"self\.{a}\s*(:[^=\n]*)?=", source)]
        if missing:
            raise RuntimeError(f"Powertools {class_name} no longer assigns {missing} in its instances")
        cls = getattr(importlib.import_module(module_name), class_name)
        taken = [a for a in attributes if a in vars(cls) and not isinstance(vars(cls)[a], PerInvocation)]
        if taken:  # a method or class value of that name would be replaced by the per-invocation attribute
            raise RuntimeError(f"Powertools {class_name} now has {taken} on the class itself")
    module_name, class_name, attributes = _ROUTER
    source = inspect.getsource(importlib.import_module(module_name))
    missing = [a for a in attributes if f"{class_name}.{a} = " not in source]
    if missing:
        raise RuntimeError(f"Powertools' resolver no longer sets {class_name}.{missing} per request")


def install() -> None:
    """Idempotent: per-invocation Powertools state (when Powertools is installed) and whole-line stdout/stderr."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("aws_lambda_powertools") is not None:
        check_compatible()

    for module_name, class_name, attributes in PER_INVOCATION:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # a template whose functions do not use Powertools
            continue
        for attribute in attributes:
            if not isinstance(vars(cls).get(attribute), PerInvocation):
                setattr(cls, attribute, PerInvocation(attribute))
    _install_router()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, LineAtomicStream):
            setattr(sys, name, LineAtomicStream(stream))


def _install_router() -> None:
    """The REST resolver's current_event and lambda_context per invocation: set as class attributes by
    resolve(), they were one for all concurrent requests (a route could read another request's event)."""
    import importlib

    module_name, class_name, attributes = _ROUTER
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except ImportError:
        return
    if not isinstance(cls, _PerInvocationMeta):
        cls.__class__ = type("PerInvocation" + type(cls).__name__, (_PerInvocationMeta, type(cls)), {})
    for attribute in attributes:
        if not isinstance(vars(cls).get(attribute), PerInvocationClassAttribute):
            type.__setattr__(cls, attribute, PerInvocationClassAttribute(attribute, vars(cls).get(attribute)))


def uninstall_streams() -> None:
    """Give sys.stdout/stderr back (loggers created meanwhile keep a wrapper, which still writes through)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, LineAtomicStream):
            stream.flush()
            setattr(sys, name, stream.wrapped)
