"""Writes the JSON Schemas of the canonical events to schemas/ (generated from the models, never by hand).

    python -m tools.schemas          # write
    python -m tools.schemas --check  # exit 1 if schemas/ differs from the models
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tools import generated

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"


def render() -> dict[str, str]:
    """File name -> JSON text of every schema."""
    sys.path.insert(0, str(ROOT / "layers" / "hub" / "python"))
    from typing import get_args

    from erphub.canonical import DATA_KIND_BY_TYPE, EventData, EventEnvelope

    files = {"event-envelope.schema.json": EventEnvelope.model_json_schema(mode="serialization")}
    union = get_args(get_args(EventData)[0])
    for model in union:
        kind = model.model_fields["kind"].default
        files[f"data/{kind}.schema.json"] = model.model_json_schema(mode="serialization")
    files["event-types.json"] = {str(t): f"data/{k}.schema.json" for t, k in DATA_KIND_BY_TYPE.items()}
    return {name: json.dumps(doc, indent=2, sort_keys=True) + "\n" for name, doc in files.items()}


def drift() -> list[str]:
    """Names of schema files that are missing or differ from the models."""
    return [str(path.relative_to(SCHEMA_DIR)) for path in generated.drift(_files())]


def main(argv: list[str] | None = None) -> int:
    return generated.main(__doc__ or "", _files(), "schemas", argv)


def _files() -> dict[Path, str]:
    return {SCHEMA_DIR / name: text for name, text in render().items()}


if __name__ == "__main__":
    raise SystemExit(main())
