"""A client of /api/v1 as a CRM quote screen or portal would be: JSON over HTTP with its API key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

KEY = "local-dev-api-key-tests-00000000000003"  # local/dev-api-keys.json: LOCAL ONLY


def call(gateway: str, method: str, path: str, body: Any = None, key: str | None = KEY) -> tuple[int, dict, Any]:
    """(status, headers, JSON body) of one request."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"x-api-key": key} if key else {})
    request = urllib.request.Request(gateway + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback gateway
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), json.loads(refused.read() or b"null")
