"""System of record as configuration (DESIGN.md rule 10): system_of_record.json says which kind of system
masters each entity's fields; a write that carries a field from another system is refused and recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from erphub.errors import ValidationFailed

RECORD_FILE = Path(__file__).with_name("system_of_record.json")
HUB = "hub"


@dataclass(frozen=True)
class Refusal:
    entity: str
    field: str
    writer: str
    master: str


@dataclass
class Verdict:
    allowed: dict[str, Any] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)


@cache
def _config() -> dict[str, Any]:
    return json.loads(RECORD_FILE.read_text(encoding="utf-8"))


def kind_of(system: str) -> str:
    """'salesforce' -> 'crm'; a kind ('crm') or 'hub' is returned as it is."""
    for kind, vendors in _config()["systems"].items():
        if system == kind or system in vendors:
            return kind
    if system == HUB:
        return HUB
    raise ValidationFailed(f"unknown system {system!r} in a mastered write", system=HUB)


def master_of(entity: str, field_name: str) -> str:
    fields = _config()["entities"].get(entity)
    if fields is None or field_name not in fields:
        raise ValidationFailed(f"{entity}.{field_name} has no system of record", system=HUB)
    return str(fields[field_name])


def check_write(entity: str, fields: dict[str, Any], writer: str) -> Verdict:
    """Split fields into those the writer may set (its kind masters them) and those refused."""
    writer_kind = kind_of(writer)
    verdict = Verdict()
    for name, value in fields.items():
        master = master_of(entity, name)
        if master == writer_kind:
            verdict.allowed[name] = value
        else:
            verdict.refused.append(Refusal(entity, name, writer_kind, master))
    return verdict
