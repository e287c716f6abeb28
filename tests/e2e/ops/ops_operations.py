"""The operations of the committed OpenAPI document, for tests parametrised over it."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def operations() -> list[tuple[str, str]]:
    """(method, path) of every operation of the committed OpenAPI document: a new route is covered as it is added."""
    document = json.loads((ROOT / "openapi" / "ops-v1.json").read_text())
    return sorted((method.upper(), path.removeprefix("/ops/v1")) for path, item in document["paths"].items()
                  for method in item)
