"""Webhooks as the vendors send them, signed with the local dev secrets: `erphub send`, the demo, tests and
benches all sign through here (fresh vendor ids for tests and benches: tests/webhooks.py)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.provision import DEV_SECRETS, read_dev_secrets
from local.sandbox import signing


def credentials_for(source: str, secrets_file: Path = DEV_SECRETS) -> dict[str, Any]:
    """The dev secret of a source: the entry whose logical id names the source (a webhook secret preferred)."""
    entries = read_dev_secrets(secrets_file)
    matching = sorted((k for k in entries if source.lower() in k.lower()), key=lambda k: "webhook" not in k.lower())
    if not matching:
        raise KeyError(f"no local dev secret for source {source!r} in {secrets_file}")
    value = entries[matching[0]]
    return value if isinstance(value, dict) else {"current": value}


def signed_request(source: str, url: str, body: bytes, **options: Any) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) exactly as the vendor would send them to url (options: see local.sandbox.signing)."""
    credentials = credentials_for(source)
    url = signing.endpoint_url(source, url, credentials, options.get("secret"))
    headers, body = signing.sign(source, body, credentials, url, **options)
    return url, headers, body


def post(gateway: str, source: str, body: bytes, **options: Any) -> tuple[int, str]:
    """Sign body as the source's vendor and POST it to the gateway's /webhooks/<source>: (status, response)."""
    url, headers, body = signed_request(source, f"{gateway}/webhooks/{source}", body, **options)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - loopback gateway
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) URLs we build  # nosec B310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def send(gateway: str, source: str, file: Path) -> tuple[int, str]:
    return post(gateway, source, Path(file).read_bytes())
