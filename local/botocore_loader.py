"""One botocore data loader for every botocore session the local stack's process creates.

On Lambda each function has its own process, so its first clients load botocore's data files (endpoints.json,
each service's model, endpoint rule set, paginators, retry and default configuration) once. In the local stack
every function shares one process but keeps its own session and clients (erphub/aws.py, as on Lambda), so each
function's cold start parsed the same JSON again: ~115 ms of CPU for five clients, of which ~95 ms `json.loads`
(issue 13: the largest single line of a profile of the workflows bench, at the start of every drain).

The data is read-only (botocore's own cache hands the same dicts to every client of a session), so sessions
created while this is installed share one `Loader` per data path: `botocore.session.create_loader` answers it.
Each session still makes its own endpoint resolver, clients, credentials and event hooks from that data. The
shared loader serialises its loads (botocore's per-instance cache is a plain dict, filled on first use; sessions
on several threads now meet in it); loaded files are answered from the cache without the lock's contention
mattering (clients are made at cold starts only).

botocore-internal (pinned botocore==1.44.8): tests/integration/runtime/test_runtime_botocore_loader_guard.py fails
loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

from local import pinned

EXPECTED_BOTOCORE = "1.44.8"
MARK = "__erphub_shared_loader__"
_CACHED_METHODS = ("list_available_services", "determine_latest_version", "list_api_versions",
                   "load_service_model", "load_data_with_path")
_lock = threading.Lock()
_loaders: dict[str | None, Any] = {}  # data path (AWS_DATA_PATH / data_path) -> its shared loader


def session_module() -> Any:
    import botocore.session

    return botocore.session


def check_compatible() -> None:
    import botocore.loaders

    pinned.require("botocore", EXPECTED_BOTOCORE, __name__)
    register = inspect.getsource(session_module().Session._register_data_loader)
    if "create_loader(self.get_config_variable('data_path'))" not in register:
        raise RuntimeError("botocore's Session no longer makes its data loader with create_loader(data_path)")
    original = getattr(session_module().create_loader, MARK, session_module().create_loader)
    if tuple(inspect.signature(original).parameters) != ("search_path_string",):
        raise RuntimeError(f"botocore's create_loader changed signature: {inspect.signature(original)}")
    loader = botocore.loaders.Loader
    for name in _CACHED_METHODS:
        if "self._cache" not in inspect.getsource(getattr(loader, name)):
            raise RuntimeError(f"botocore's Loader.{name} is no longer cached per loader instance")


def installed() -> bool:
    return getattr(session_module().create_loader, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (botocore's session module is). Sessions created before keep their loader."""
    if installed():
        return
    check_compatible()
    module = session_module()
    module.create_loader = _shared(module.create_loader)


def _shared(original: Any) -> Any:
    @functools.wraps(original)
    def create_loader(search_path_string: str | None = None) -> Any:
        with _lock:
            if search_path_string not in _loaders:
                _loaders[search_path_string] = _serialised(original(search_path_string))
            return _loaders[search_path_string]

    setattr(create_loader, MARK, original)
    return create_loader


def _serialised(loader: Any) -> Any:
    """The loader with its cached loads made one at a time (re-entrant: they call one another)."""
    guard = threading.RLock()
    for name in (*_CACHED_METHODS, "load_data"):
        method = getattr(loader, name)

        def locked(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with guard:
                return _method(*args, **kwargs)

        setattr(loader, name, functools.wraps(method)(locked))
    return loader
