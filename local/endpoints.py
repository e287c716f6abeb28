"""Where a running `erphub up` is: .erphub/endpoints.json, written by up, read by status, send and demo."""

from __future__ import annotations

import functools
import json
import os
import socket
import urllib.parse
from pathlib import Path
from typing import Any

STATE_DIR = Path(".erphub")
ENDPOINTS = STATE_DIR / "endpoints.json"


def write(stack: Any) -> Path:
    STATE_DIR.mkdir(exist_ok=True)
    data = {**stack.endpoints, "pid": os.getpid(), "template": str(stack.template.path),
            "resources": {lid: {k: v for k, v in attrs.items() if isinstance(v, str)}
                          for lid, attrs in stack.template.physical.items()}}
    partial = ENDPOINTS.with_suffix(".tmp")
    partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
    partial.replace(ENDPOINTS)  # atomic: a reader (status, send, a test) never sees half a file
    return ENDPOINTS


def remove() -> None:
    ENDPOINTS.unlink(missing_ok=True)


def read() -> dict[str, Any] | None:
    """The endpoints of the running stack, or None when none answers."""
    if not ENDPOINTS.exists():
        return None
    data = json.loads(ENDPOINTS.read_text(encoding="utf-8"))
    url = urllib.parse.urlsplit(data["aws"])
    try:
        with socket.create_connection((url.hostname, url.port), timeout=1):
            return data
    except OSError:
        return None


def session(aws_url: str) -> Any:
    """A boto3 session-like factory of clients on a running stack's embedded AWS."""
    import boto3

    from local.embedded_aws import FAKE_CREDENTIALS
    from local.template import REGION

    boto = boto3.session.Session(aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name=REGION)
    return functools.cache(lambda service: boto.client(service, endpoint_url=aws_url))
