"""Writes openapi/ops-v1.json, the OpenAPI document of the operator API, generated from its code (the
Powertools resolver of erphub.operations.api), never by hand.

    python -m local.openapi          # write
    python -m local.openapi --check  # exit 1 if openapi/ differs from the code
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from local import generated

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi" / "ops-v1.json"


def render() -> str:
    sys.path.insert(0, str(ROOT / "layers" / "hub" / "python"))
    from erphub.operations.api import openapi_document

    return json.dumps(json.loads(openapi_document()), indent=2, sort_keys=True) + "\n"


def files() -> dict[Path, str]:
    return {DOCUMENT: render()}


def main(argv: list[str] | None = None) -> int:
    return generated.main(__doc__ or "", files(), "openapi", argv)


if __name__ == "__main__":
    raise SystemExit(main())
