"""The operator console: a few static pages (no build step) served on the operator API's own stage, and the
sign-in settings the browser needs. The function holds no AWS permission: the pages sign the user in with
Cognito themselves and call /ops/v1 with the user's ID token, so the console can do nothing the API would
not let that user do."""

import json
import re
from pathlib import Path

from erphub.settings import get_settings

STATIC = Path(__file__).parent / "static"
TYPES = {"app.js": "text/javascript; charset=utf-8", "recovery.js": "text/javascript; charset=utf-8",
         "kpis.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


def lambda_handler(event: dict, context: object) -> dict:
    asset = (event.get("pathParameters") or {}).get("asset")
    if asset is None:
        return _answer(200, "text/html; charset=utf-8", _index(event))
    if asset == "config.json":
        return _answer(200, "application/json", json.dumps(sign_in_settings()))
    if asset not in TYPES:  # only the files we ship, never a path into the package
        return _answer(404, "application/json", json.dumps({"error": "NotFound", "message": f"no {asset}"}))
    return _answer(200, TYPES[asset], (STATIC / asset).read_text(encoding="utf-8"))


def sign_in_settings() -> dict[str, str]:
    """Cognito's public app client and the endpoint the browser signs in at (the embedded AWS locally)."""
    settings = get_settings()
    region = settings.aws_region or "us-east-1"
    endpoint = settings.aws_endpoint_url or f"https://cognito-idp.{region}.amazonaws.com/"
    return {"client_id": settings.environment.get("OPS_USER_POOL_CLIENT_ID", ""), "region": region,
            "cognito_endpoint": endpoint}


def _index(event: dict) -> str:
    # <base> is the API's ".../ops/" as the browser called it (with the stage prefix on execute-api, without
    # on a custom domain or locally), so every link and API call in the pages is relative and works on both
    called = (event.get("requestContext") or {}).get("path") or event.get("path") or "/ops/console"
    base = re.sub(r"/console/?$", "/", called)
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return html.replace('<base href="/ops/">', f'<base href="{_attribute(base)}">')


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _answer(status: int, content_type: str, body: str) -> dict:
    endpoint = sign_in_settings()["cognito_endpoint"]
    return {"statusCode": status, "body": body, "headers": {
        "Content-Type": content_type, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
        "Content-Security-Policy": f"default-src 'self'; connect-src 'self' {endpoint}; img-src 'self' data:; "
                                   "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"}}
