"""Webhooks as the vendors send them, signed with the local dev secrets: `erphub send`, the demo, tests and
benches all sign through here."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
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


def fresh(source: str, body: bytes) -> tuple[bytes, dict[str, Any]]:
    """The same business content as a new vendor event: (body, signing options)."""
    new_id = uuid.uuid4().hex[:18]
    if source == "salesforce":
        count = iter(range(1000))
        return re.sub(rb"<Id>04l[^<]*</Id>", lambda _: f"<Id>04l{new_id[:12]}{next(count):03d}</Id>".encode(),
                      body), {}
    if source == "zuora":
        return body, {"notification_id": new_id}  # the id travels in a header
    return with_vendor_id(source, body, new_id), {}


def with_vendor_id(source: str, body: bytes, new_id: str) -> bytes:
    """A JSON vendor's body with its event id(s) replaced (HubSpot: one per event of the batch)."""
    if source in ("salesforce", "zuora"):
        return body
    document = json.loads(body)
    if source == "hubspot":
        for index, event in enumerate(document):
            event["eventId"] = new_id + str(index) if len(new_id) > 100 else int(new_id[:12], 16) + index
    elif source in ("gainsight", "totango"):
        document["eventId"] = new_id
    else:  # stripe, chargebee
        document["id"] = f"evt_{new_id}" if source == "stripe" else f"ev_{new_id}"
    return json.dumps(document).encode()
