"""Puts the Lambda code on the path the way Lambda does (the layer under /opt/python, the repo for local/)."""

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "hub" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# never reach a real AWS account from tests, whatever the machine's environment holds
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "erphub")


@pytest.fixture(autouse=True)
def hub_settings() -> Iterator[Callable[..., Any]]:
    """The erphub settings a test runs with (erphub.settings is parsed once per process, as on Lambda).

    Every test starts from settings parsed afresh from the process environment, so nothing built from one
    test's configuration (boto3 clients, secrets caches, connectors) reaches the next. `hub_settings(NAME=value,
    ...)` makes the process's settings those of the process environment plus these variables, for the rest of
    the test, in every thread; functions hosted by a local stack have their own (local/functions.py)."""
    from erphub.settings import Settings, use_settings

    with contextlib.ExitStack() as scope:
        given: dict[str, str] = {}  # cumulative within a test: a fixture's variables stay when the test adds its own

        def configure(**variables: str) -> Settings:
            given.update(variables)
            return scope.enter_context(use_settings(Settings.from_env({**os.environ, **given})))

        configure()
        yield configure
