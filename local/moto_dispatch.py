"""Two costs the embedded moto server pays on every AWS request (moto 5.2.5; profiled across
`bench/workflows.py`), each a pure function of something fixed while the process runs, so remembered:

- it finds the request's backend by host name, and for that lists moto's package directory (an `isdir` for
  each of its ~150 entries) and tries ~400 URL patterns: ~0.7 ms of CPU, under the dispatcher's one lock, so
  every request of every thread waits for it (`DomainDispatcherApplication.get_backend_for_host`): remembered
  per host name;
- it finds the response class's action methods with `inspect.getmembers` (`method_names_from_class`, as
  imported by moto.core.responses): remembered per class.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dispatch_guard.py fails loudly
if the replaced functions change.
"""

from __future__ import annotations

import inspect
from typing import Any

EXPECTED_MOTO = "5.2.5"
EXPECTED_PARAMETERS = ("self", "host")
EXPECTED_METHOD_NAMES = ("clazz",)


def target() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    return DomainDispatcherApplication


def _original() -> Any:
    method = target().get_backend_for_host
    return getattr(method, "__wrapped_moto_dispatch__", method)


def responses_target() -> Any:
    from moto.core import responses

    return responses


def _original_method_names() -> Any:
    function = responses_target().method_names_from_class
    return getattr(function, "__wrapped_moto_dispatch__", function)


def check_compatible() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_dispatch.py was written for moto {EXPECTED_MOTO}, found {moto.__version__}")
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_PARAMETERS:
        raise RuntimeError(f"moto DomainDispatcherApplication.get_backend_for_host changed signature: {params}")
    params = tuple(inspect.signature(_original_method_names()).parameters)
    if params != EXPECTED_METHOD_NAMES:
        raise RuntimeError(f"moto method_names_from_class changed signature: {params}")


def install() -> None:
    """Idempotent."""
    check_compatible()
    _install_method_names()
    dispatcher = target()
    if getattr(dispatcher.get_backend_for_host, "__wrapped_moto_dispatch__", None):
        return
    original = _original()
    known: dict[str, Any] = {}  # host -> backend; read and written under the dispatcher's lock (get_application)

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host is None:
            return None
        if host not in known:
            backend = original(self, host)
            if backend is None:  # an unknown host: moto prints why; not remembered, it is rare
                return None
            known[host] = backend
        return known[host]

    get_backend_for_host.__wrapped_moto_dispatch__ = original  # type: ignore[attr-defined]
    dispatcher.get_backend_for_host = get_backend_for_host


def _install_method_names() -> None:
    responses = responses_target()
    if getattr(responses.method_names_from_class, "__wrapped_moto_dispatch__", None):
        return
    original = _original_method_names()
    known: dict[type, list[str]] = {}  # a race computes the same list twice, harmlessly

    def method_names_from_class(clazz: Any) -> list[str]:
        if clazz not in known:
            known[clazz] = original(clazz)
        return known[clazz]

    method_names_from_class.__wrapped_moto_dispatch__ = original  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class
