"""The embedded moto server finds the backend of every request by host name, and for that lists moto's package
directory (an `isdir` for each of its ~150 entries) and then tries ~400 URL patterns: ~0.7 ms of CPU per AWS
request, under the dispatcher's one lock, so every request of every thread waits for it
(`DomainDispatcherApplication.get_backend_for_host`, moto 5.2.5; profiled across `bench/workflows.py`).

The answer depends on the host name only (moto's installed modules and URL patterns do not change while the
process runs), so it is remembered per host. moto-internal (pinned moto==5.2.5):
tests/integration/runtime/test_runtime_moto_dispatch_guard.py fails loudly if the replaced method changes.
"""

from __future__ import annotations

import inspect
from typing import Any

EXPECTED_MOTO = "5.2.5"
EXPECTED_PARAMETERS = ("self", "host")


def target() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    return DomainDispatcherApplication


def _original() -> Any:
    method = target().get_backend_for_host
    return getattr(method, "__wrapped_moto_dispatch__", method)


def check_compatible() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_dispatch.py was written for moto {EXPECTED_MOTO}, found {moto.__version__}")
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_PARAMETERS:
        raise RuntimeError(f"moto DomainDispatcherApplication.get_backend_for_host changed signature: {params}")


def install() -> None:
    """Idempotent."""
    check_compatible()
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
