"""A data fix as a diff: the corrected deal, what changed (field path, before, after) and which system masters
each changed field (system_of_record.json), so the operator knows where the fix must also be made."""

from __future__ import annotations

from typing import Any

from erphub import mastering
from erphub.errors import ValidationFailed

# the deal's paths that map to an entity of system_of_record.json (the first path segment)
_ENTITY_OF = {"account": "account"}


def merge(base: Any, changes: Any) -> Any:
    """Nested dicts merge key by key; anything else (a list, a value) replaces."""
    if isinstance(base, dict) and isinstance(changes, dict):
        return {**base, **{k: merge(base.get(k), v) for k, v in changes.items()}}
    return changes


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Leaf-level differences, each with the system that masters it."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [d for k in sorted(before.keys() | after.keys())
                for d in diff(before.get(k), after.get(k), f"{path}.{k}" if path else k)]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in diff(b, a, f"{path}[{i}]")]
    if before == after:
        return []
    return [{"field": path, "before": before, "after": after, "master": master(path)}]


def master(path: str) -> str:
    """'account.legal_entities[1].tax_id' -> 'crm'; a contract field (items, amount, ...) -> its master."""
    parts = path.replace("[", ".[").split(".")
    names = [p for p in parts if p and not p.startswith("[")]
    entity = _ENTITY_OF.get(names[0], "contract") if names else "contract"
    candidates = names[1:] if entity == "account" else names[:1]
    for name in reversed(candidates):  # the most specific field the configuration knows
        try:
            return mastering.master_of(entity, name)
        except ValidationFailed:
            continue
    return "crm"  # a deal's fields come from the CRM that sent it
