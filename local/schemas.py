"""Writes the JSON Schemas of the canonical events to schemas/ (generated from the models, never by hand).

    python -m local.schemas          # write
    python -m local.schemas --check  # exit 1 if schemas/ differs from the models
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    return [name for name, text in render().items()
            if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if schemas/ is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = drift()
        for name in stale:
            print(f"schemas/{name} is out of date: run `make schemas`")
        return 1 if stale else 0
    for name, text in render().items():
        (SCHEMA_DIR / name).parent.mkdir(parents=True, exist_ok=True)
        (SCHEMA_DIR / name).write_text(text)
        print(f"wrote schemas/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
