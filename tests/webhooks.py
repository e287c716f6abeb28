"""Webhooks as the vendors send them, for tests and benchmarks: real samples from events/, a fresh vendor
event id when a test needs a new event, signed by local.webhooks (the vendor's own signature)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from local.webhooks import credentials_for, fresh, signed_request

__all__ = ["credentials", "fresh", "post", "sample", "signed_request"]

ROOT = Path(__file__).resolve().parent.parent
credentials = credentials_for


def sample(relative: str) -> bytes:
    return (ROOT / "events" / relative).read_bytes()


def post(gateway: str, source: str, body: bytes, *, fresh_id: bool = True, **options: Any) -> requests.Response:
    """POST a webhook to the gateway exactly as the vendor would; fresh_id makes it a new vendor event."""
    if fresh_id:
        body, extra = fresh(source, body)
        options = {**extra, **options}
    url, headers, body = signed_request(source, f"{gateway}/webhooks/{source}", body, **options)
    return requests.post(url, data=body, headers=headers, timeout=10)
