"""os.environ per function: several "Lambda functions" run in one process, each must see its own environment.

Installed once, the overlay makes os.environ (and os.getenv, and every `from os import environ`) consult the
environment of the function running in the current context first. Outside a function nothing changes.
Threads a handler starts itself begin with an empty context and see the process environment (documented).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Any

from local import log_context

_current: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("function_environ", default=None)
_base_class = type(os.environ)


class _FunctionEnviron(_base_class):  # type: ignore[misc, valid-type]
    """While a function runs, its environment dict IS os.environ (reads and writes); otherwise the process's."""

    def __getitem__(self, key: str) -> str:
        env = _current.get()
        if env is None:
            return super().__getitem__(key)
        return env[key]

    def __setitem__(self, key: str, value: str) -> None:
        env = _current.get()
        if env is None:
            super().__setitem__(key, value)
        else:
            env[key] = str(value)

    def __delitem__(self, key: str) -> None:
        env = _current.get()
        if env is None:
            super().__delitem__(key)
        else:
            del env[key]

    def __iter__(self) -> Iterator[str]:
        env = _current.get()
        if env is None:
            return super().__iter__()
        return iter(list(env))

    def __len__(self) -> int:
        env = _current.get()
        return super().__len__() if env is None else len(env)

    def __contains__(self, key: object) -> bool:
        env = _current.get()
        return super().__contains__(key) if env is None else key in env

    def copy(self) -> dict[str, str]:
        env = _current.get()
        return super().copy() if env is None else dict(env)

    def __repr__(self) -> str:
        env = _current.get()
        return super().__repr__() if env is None else f"environ({env!r})"


def install() -> None:
    """Idempotent: swaps the class of the one os.environ object, so existing references see the overlay too."""
    if not isinstance(os.environ, _FunctionEnviron):
        os.environ.__class__ = _FunctionEnviron


@contextlib.contextmanager
def function_environment(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Around a cold start or an invocation: its environment, and its own logging and metrics state."""
    install()
    token = _current.set(env)
    try:
        with log_context.invocation():
            yield env
    finally:
        _current.reset(token)


def process_environ() -> dict[str, Any]:
    """The process environment, whatever context runs (for building a function's environment)."""
    token = _current.set(None)
    try:
        return dict(os.environ)
    finally:
        _current.reset(token)
