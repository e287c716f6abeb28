"""Writes openapi/api-v1.json, the OpenAPI 3.1 document of /api/v1, generated from the code (the sync_api
function's routes and the pydantic models of erphub.api.models), never written by hand.

    python -m local.openapi          # write (make openapi)
    python -m local.openapi --check  # exit 1 if the committed document differs from the code
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from local import generated

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi" / "api-v1.json"
HANDLER = ROOT / "functions" / "sync_api" / "app.py"


def render() -> dict[str, Any]:
    """The document as the deployed function's resolver describes itself."""
    layer = str(ROOT / "layers" / "hub" / "python")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    spec = importlib.util.spec_from_file_location("erphub_sync_api_app", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from erphub.api import document

    text = module.app.get_openapi_json_schema(title=document.TITLE, version=document.VERSION,
                                              description=document.DESCRIPTION,
                                              security_schemes=document.security_schemes(), security=document.SECURITY)
    return json.loads(text)


def text() -> str:
    return json.dumps(render(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated.main(__doc__ or "", {DOCUMENT: text()}, "openapi", argv)


if __name__ == "__main__":
    raise SystemExit(main())
