"""What the sources' ack path shares: JSON envelopes, signature timestamps and HTTP basic auth.

Verify, parse and acknowledge import no pydantic and nothing of erphub.canonical: the vendor values and the
envelope builder that normalize needs are in erphub.sources.mapping._common, imported only when mapping.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from erphub.errors import AuthenticationFailed
from erphub.sources import safe_json
from erphub.sources.inbound import InboundRequest, SourceCredentials, any_equal, equal


def load_json(body: bytes, source: str) -> Any:
    """The body as JSON, or BadEnvelope: depth, number and Unicode limits in erphub.sources.safe_json."""
    return safe_json.loads(body, source)


def compact(value: Any) -> bytes:
    """Bytes of one event inside a batch (its raw slice is not addressable after parsing)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def is_epoch_text(text: str, *, max_digits: int) -> bool:
    """A signature header's timestamp: ASCII digits only (str.isdigit() also takes '²' and Arabic-Indic
    digits) and short enough that the age arithmetic stays in float range."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def verify_basic(request: InboundRequest, credentials: SourceCredentials, source: str) -> None:
    """HTTP basic auth: username must match, password may be either active secret."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise AuthenticationFailed(f"{source}: missing basic Authorization header", system=source)
    try:
        username, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:  # ValueError: non-ASCII base64 text
        raise AuthenticationFailed(f"{source}: malformed basic Authorization header", system=source) from exc
    user_ok = equal(username, credentials.username) if credentials.username else True
    if not sep or not (any_equal(password, credentials.active) & user_ok):
        raise AuthenticationFailed(f"{source}: basic auth username or password is wrong", system=source)
