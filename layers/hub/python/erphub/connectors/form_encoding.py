"""Form encoding with nested fields, as Stripe documents it: `items[0][price]=p`, `metadata[key]=v`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts and lists become bracketed keys; None is left out (Stripe reads "" as "unset")."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs += flatten(value, name)
        elif isinstance(value, list | tuple):
            for index, element in enumerate(value):
                if isinstance(element, Mapping):
                    pairs += flatten(element, f"{name}[{index}]")
                else:
                    pairs.append((f"{name}[{index}]", _scalar(element)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs
