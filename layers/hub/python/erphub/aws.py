"""boto3 clients, made lazily and once per process (never at import time: keeps cold starts cheap).

They honour AWS_ENDPOINT_URL, which is how the local stack points the same code at its embedded AWS; the
cache is keyed by it too, so a client made under another environment is never handed out by mistake.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any


def client(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))


@cache
def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    import boto3  # imported on first use so that pure modules stay cheap to import

    return boto3.session.Session().client(service)


def reset_clients() -> None:
    _client.cache_clear()
