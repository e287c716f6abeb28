"""Per-request costs of the embedded moto server that never change while the process runs, paid once.

- **Which service answers a request.** moto 5.2.5's server (`DomainDispatcherApplication.get_application`)
  finds it from the Host (for our loopback endpoint: from the SigV4 credential scope) by listing moto's
  package directory (`os.listdir`, and an `isdir` for each of its ~200 services) and then trying every
  service's URL regex, all under one lock that every request of every thread takes. Profiled under load it
  was the local stack's largest single cost (issue 13). The answer is remembered per host name.
- **EventBridge input paths.** For every target of every matching rule, moto's `EventTemplateParser.parse`
  compiles the eight JSONPath expressions of the default input (`$.detail`, `$.time`, ...) with
  `jsonpath_ng.ext.parse`, which builds a PLY parser each time: ~10 % of the stack's CPU per event. The
  compiled expression is the same object every time (it is immutable: `find` builds new results), so
  `jsonpath_ng.ext.parse` is memoized (bounded).
- **A response class's action methods.** moto finds them with `inspect.getmembers` on every request
  (`moto.core.responses.method_names_from_class`): remembered per class.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_hot_paths_guard.py fails
loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

MARK = "__erphub_memoized__"
EXPECTED_HOST_PARAMETERS = ("self", "host")
EXPECTED_PARSE_PARAMETERS = ("path", "debug")
EXPECTED_METHOD_NAMES_PARAMETERS = ("clazz",)
JSONPATH_CACHE = 1024  # distinct expressions remembered (the stack uses a few dozen)


def dispatcher() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    return DomainDispatcherApplication


def jsonpath_ext() -> Any:
    import jsonpath_ng.ext

    return jsonpath_ng.ext


def responses() -> Any:
    from moto.core import responses

    return responses


def _original(function: Any) -> Any:
    return getattr(function, MARK, function)


def check_compatible() -> None:
    host_lookup = _original(dispatcher().get_backend_for_host)
    if tuple(inspect.signature(host_lookup).parameters) != EXPECTED_HOST_PARAMETERS:
        raise RuntimeError(f"moto's get_backend_for_host changed signature: {inspect.signature(host_lookup)}")
    parse = _original(jsonpath_ext().parse)
    if tuple(inspect.signature(parse).parameters) != EXPECTED_PARSE_PARAMETERS:
        raise RuntimeError(f"jsonpath_ng.ext.parse changed signature: {inspect.signature(parse)}")
    method_names = _original(responses().method_names_from_class)
    if tuple(inspect.signature(method_names).parameters) != EXPECTED_METHOD_NAMES_PARAMETERS:
        raise RuntimeError(f"moto's method_names_from_class changed signature: {inspect.signature(method_names)}")
    from moto.events.utils import EventTemplateParser

    if "from jsonpath_ng.ext import parse" not in inspect.getsource(EventTemplateParser.parse):
        raise RuntimeError("moto's EventTemplateParser.parse no longer imports jsonpath_ng.ext.parse when called")


def installed() -> bool:
    return (getattr(dispatcher().get_backend_for_host, MARK, None) is not None
            and getattr(jsonpath_ext().parse, MARK, None) is not None
            and getattr(responses().method_names_from_class, MARK, None) is not None)


def install() -> None:
    """Idempotent; process-wide (the dispatcher class and the jsonpath module are)."""
    if installed():
        return
    check_compatible()
    cls, module = dispatcher(), jsonpath_ext()
    if getattr(cls.get_backend_for_host, MARK, None) is None:
        cls.get_backend_for_host = _memoized_host_lookup(cls.get_backend_for_host)
    if getattr(module.parse, MARK, None) is None:
        module.parse = _memoized_parse(module.parse)
    if getattr(responses().method_names_from_class, MARK, None) is None:
        responses().method_names_from_class = _memoized_method_names(responses().method_names_from_class)


def _memoized_host_lookup(original: Callable[[Any, str | None], Any]) -> Callable[[Any, str | None], Any]:
    answers: dict[str | None, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host in answers:
            return answers[host]
        backend = original(self, host)
        if backend:  # an unknown host is not remembered: moto keeps answering it its own way (and printing)
            answers[host] = backend
        return backend

    setattr(get_backend_for_host, MARK, original)
    return get_backend_for_host


def _memoized_parse(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.lru_cache(maxsize=JSONPATH_CACHE)
    def compiled(path: str, debug: bool | None) -> Any:
        return original(path, debug)

    @functools.wraps(original)
    def parse(path: str, debug: bool | None = None) -> Any:
        return compiled(path, debug)

    setattr(parse, MARK, original)
    return parse


def _memoized_method_names(original: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    known: dict[type, list[str]] = {}  # a race computes the same list twice, harmlessly

    @functools.wraps(original)
    def method_names_from_class(clazz: Any) -> list[str]:
        if clazz not in known:
            known[clazz] = original(clazz)
        return known[clazz]

    setattr(method_names_from_class, MARK, original)
    return method_names_from_class
