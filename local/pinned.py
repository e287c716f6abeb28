"""Our patches of moto's and botocore's internals are each written against one version (the dev lock pins it): a
patch refuses to install on another, where what it replaces may have changed; its guard test then fails loudly."""

from __future__ import annotations

import importlib


def require(package: str, expected: str, patch: str) -> None:
    """`patch` is the patching module's `__name__`."""
    found = importlib.import_module(package).__version__
    if found != expected:
        raise RuntimeError(f"{patch.replace('.', '/')}.py was written for {package} {expected}, found {found}")
