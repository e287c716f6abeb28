"""boto3 clients, made lazily and once per process (never at import time: keeps cold starts cheap).

They honour AWS_ENDPOINT_URL, which is how the local stack points the same code at its embedded AWS.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # imported on first use so that pure modules stay cheap to import

    return boto3.session.Session().client(service)


def reset_clients() -> None:
    client.cache_clear()
