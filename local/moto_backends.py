"""moto's lookup of an account's backends, `backends[account_id]`, without a global lock once the account exists.

moto 5.2.5's `BackendDict.__getitem__` calls `_create_account_specific_backend` on EVERY access: it takes the
process-wide `backend_lock` (an RLock every service shares), copies the dict's keys into a list to test
membership, and checks `self not in BackendDict._instances` by a Python-level `__eq__` on each registered
BackendDict. Every request of every service does this at least once (most several times), so under the
threaded server and the in-process transport the stack's threads queue on that lock (issue 13: a top line of
a wall-clock profile of the workflows bench).

Once moto has created the account's backends AND registered the BackendDict for reset (what that method
ensures), the answer is the dict's own item: the fast path returns it directly. Anything else (a new
account, a BackendDict never registered, the first access after a reset, which empties every registered
dict and the list) takes moto's own path, under its lock, unchanged. Registration is remembered per
BackendDict with the reset generation it was seen in, and `BackendDict.reset` starts a new generation.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_backends_guard.py fails loudly
if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from typing import Any

from local import pinned

MARK = "__erphub_fast_account__"
EXPECTED_MOTO = "5.2.5"
_SEEN = "_erphub_registered_generation"  # attribute on a BackendDict: the reset generation it was registered in
_generations = itertools.count(1)
_generation = 0  # the current reset generation (0 until install)


def backend_dict() -> Any:
    from moto.core.base_backend import BackendDict

    return BackendDict


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    cls = backend_dict()
    getitem = getattr(cls.__getitem__, MARK, cls.__getitem__)
    if "self._create_account_specific_backend(account_id)" not in inspect.getsource(getitem):
        raise RuntimeError("moto's BackendDict.__getitem__ no longer creates the account's backends on access")
    create = inspect.getsource(cls._create_account_specific_backend)
    if "BackendDict._instances.append(self)" not in create or "with backend_lock" not in create:
        raise RuntimeError("moto's BackendDict no longer registers itself in _instances under backend_lock")
    reset = getattr(cls.reset, MARK, cls.reset)
    if "BackendDict._instances.clear()" not in inspect.getsource(reset):
        raise RuntimeError("moto's BackendDict.reset no longer clears the registered BackendDicts")


def installed() -> bool:
    return getattr(backend_dict().__getitem__, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (moto's class is)."""
    global _generation
    if installed():
        return
    check_compatible()
    cls = backend_dict()
    _generation = next(_generations)
    cls.reset = _new_generation_on(cls.reset)
    cls.__getitem__ = _fast_getitem(cls.__getitem__)


def _fast_getitem(original: Any) -> Any:
    get = dict.get

    @functools.wraps(original)
    def __getitem__(self: Any, account_id: str) -> Any:
        if getattr(self, _SEEN, None) == _generation:
            found = get(self, account_id)
            if found is not None:
                return found
        answer = original(self, account_id)  # creates and registers under moto's lock
        _remember_registered(self)
        return answer

    setattr(__getitem__, MARK, original)
    return __getitem__


def _remember_registered(backends: Any) -> None:
    from moto.core.base_backend import backend_lock

    with backend_lock:  # reset holds it while it clears: the generation read here is the one registered in
        if any(registered is backends for registered in backend_dict()._instances):
            setattr(backends, _SEEN, _generation)


def _new_generation_on(original: Any) -> Any:
    function = original.__func__  # a classmethod, read through the class: bound

    @functools.wraps(function)
    def reset(cls: Any) -> None:
        global _generation
        from moto.core.base_backend import backend_lock

        with backend_lock:
            _generation = next(_generations)  # before the dicts empty: no fast path answers from a cleared dict
            function(cls)

    setattr(reset, MARK, function)
    return classmethod(reset)
