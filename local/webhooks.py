"""`erphub send`: sign a sample as its vendor would, with the local dev secrets, and post it to the gateway."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.provision import DEV_SECRETS


def credentials_for(source: str, secrets_file: Path = DEV_SECRETS) -> dict[str, Any]:
    """The dev secret of a source: the entry whose logical id names the source (a webhook secret preferred)."""
    entries = {k: v for k, v in json.loads(secrets_file.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    matching = sorted((k for k in entries if source.lower() in k.lower()), key=lambda k: "webhook" not in k.lower())
    if not matching:
        raise KeyError(f"no local dev secret for source {source!r} in {secrets_file}")
    value = entries[matching[0]]
    return value if isinstance(value, dict) else {"current": value}


def send(gateway: str, source: str, file: Path) -> tuple[int, str]:
    from local import signing

    credentials = credentials_for(source)
    url = f"{gateway}/webhooks/{source}"
    if hasattr(signing, "endpoint_url"):
        url = signing.endpoint_url(source, url, credentials)
    headers, body = signing.sign(source, Path(file).read_bytes(), credentials, url, method="POST")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - loopback gateway
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
