"""Named actions the adapters dispatch: `{"action": "billing.activate", ...}` -> one function per action.

Modules register their actions with @action; an adapter serves only its own system's prefixes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from erphub.workflows.run import Run

Action = Callable[[Run], dict[str, Any]]
REGISTRY: dict[str, Action] = {}
COMPENSATIONS: set[str] = set()  # steps that undo; the status keeps the forward step that failed


def action(name: str, *, compensation: bool = False) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        REGISTRY[name] = fn
        if compensation:
            COMPENSATIONS.add(name)
        return fn

    return register
