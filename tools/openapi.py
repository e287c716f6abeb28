"""Writes the OpenAPI documents generated from the code, never by hand: openapi/ops-v1.json (the operator API,
the Powertools resolver of erphub.operations.api) and openapi/api-v1.json (/api/v1, the sync_api function's
routes and the models of erphub.api.models).

    python -m tools.openapi          # write (make openapi)
    python -m tools.openapi --check  # exit 1 if openapi/ differs from the code
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from tools import generated

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi" / "ops-v1.json"
API_V1 = ROOT / "openapi" / "api-v1.json"
HANDLER = ROOT / "functions" / "sync_api" / "app.py"


def _layer_on_path() -> None:
    layer = str(ROOT / "layers" / "hub" / "python")
    if layer not in sys.path:
        sys.path.insert(0, layer)


def render() -> str:
    """The operator API's document."""
    _layer_on_path()
    from erphub.operations.api import openapi_document

    return json.dumps(json.loads(openapi_document()), indent=2, sort_keys=True) + "\n"


def render_api_v1() -> dict[str, Any]:
    """/api/v1's document, as the deployed function's resolver describes itself."""
    _layer_on_path()
    spec = importlib.util.spec_from_file_location("erphub_sync_api_app", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from erphub.api import document

    text = module.app.get_openapi_json_schema(title=document.TITLE, version=document.VERSION,
                                              description=document.DESCRIPTION,
                                              security_schemes=document.security_schemes(), security=document.SECURITY)
    return json.loads(text)


def api_v1_text() -> str:
    return json.dumps(render_api_v1(), indent=2, sort_keys=True) + "\n"


def files() -> dict[Path, str]:
    return {DOCUMENT: render(), API_V1: api_v1_text()}


def main(argv: list[str] | None = None) -> int:
    return generated.main(__doc__ or "", files(), "openapi", argv)


if __name__ == "__main__":
    raise SystemExit(main())
