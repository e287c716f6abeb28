"""Owner, SLA and actions per kind of exception, from config/exception_kinds.json (versioned configuration,
not stack parameters)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

KINDS_FILE = Path(__file__).resolve().parent.parent / "config" / "exception_kinds.json"
WORKFLOW_FAILED = "<workflow>_failed"


class Kind(BaseModel):
    title: str
    owner: str
    sla_seconds: int
    actions: list[str]
    wait_timeout_seconds: int | None = None  # a workflow waiting on it gives up after this (TimeoutSeconds)
    heartbeat_seconds: int | None = None  # ...or when nobody acknowledged it for this long (HeartbeatSeconds)


@cache
def _config() -> dict[str, Any]:
    return json.loads(KINDS_FILE.read_text(encoding="utf-8"))


def of(kind: str) -> Kind:
    """The kind's settings; `activation_failed`, `renewal_failed`... share `<workflow>_failed`."""
    configured = _config()["kinds"]
    if kind in configured:
        return Kind.model_validate(configured[kind])
    if kind.endswith("_failed"):
        return Kind.model_validate(configured[WORKFLOW_FAILED])
    return Kind.model_validate(_config()["default"])


def known() -> list[str]:
    return [k for k in _config()["kinds"] if not k.startswith("_")]
