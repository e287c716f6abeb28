"""What every inbound source is: a verifier and a normalizer over one vendor's webhooks. Pure: no I/O.

A source gets the request exactly as received (raw bytes, headers, full URL) and the source's
credentials (two active secrets during a rotation). It never touches AWS; ingest does that.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the ack path (verify, parse, acknowledge) imports no pydantic; normalize's models are lazy
    from erphub.canonical import EventEnvelope


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only HTTP headers (the last value wins for repeated names)."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (headers or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    # Mapping's own get/__contains__ go through __getitem__ and a KeyError per missing name; every webhook asks
    # for a dozen headers, most of them absent
    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class InboundRequest:
    method: str
    url: str = field(metadata={"doc": "full URL the vendor called: scheme://host/path?query"})
    headers: Headers
    body: bytes
    received_at: datetime
    source_ip: str = ""


@dataclass(frozen=True)
class SourceCredentials:
    """One source's secret in Secrets Manager. `previous` stays valid during a rotation."""

    current: str
    previous: str = ""
    username: str = ""
    organization_ids: list[str] = field(default_factory=list)
    mode: str = field(default="", metadata={"doc": "for sources with several schemes, e.g. zuora: basic or hmac"})

    def __post_init__(self) -> None:
        if not self.current:
            raise ValueError("current is missing or empty")

    @classmethod
    def from_secret(cls, value: Any) -> SourceCredentials:
        """The credentials a secret's parsed JSON holds; ValueError naming what is wrong with it.

        Keys other than the fields are ignored; organization_ids may be a comma-separated string."""
        if not isinstance(value, dict):
            raise ValueError(f"not a JSON object (got {_json_type(value)})")
        fields: dict[str, Any] = {}
        for name in ("current", "previous", "username", "mode"):
            text = value.get(name, "")
            if not isinstance(text, str):
                raise ValueError(f"{name} must be a string (got {_json_type(text)})")
            fields[name] = text
        organizations = value.get("organization_ids", [])
        if isinstance(organizations, str):
            organizations = [v.strip() for v in organizations.split(",") if v.strip()]
        if not isinstance(organizations, list) or not all(isinstance(v, str) for v in organizations):
            raise ValueError("organization_ids must be a list of strings or a comma-separated string")
        return cls(organization_ids=organizations, **fields)

    @property
    def active(self) -> list[str]:
        return [s for s in (self.current, self.previous) if s]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class VendorEvent:
    """One event inside a webhook delivery (Salesforce batches up to 100 in one message)."""

    vendor_event_id: str
    vendor_type: str
    payload: dict[str, Any]
    raw: bytes


class Source(Protocol):
    name: str  # the {source} path segment: stripe, hubspot, salesforce, chargebee, zuora, gainsight

    def verify(self, request: InboundRequest, credentials: SourceCredentials) -> None:
        """Raise AuthenticationFailed unless the request is authentic and fresh."""

    def parse(self, request: InboundRequest) -> list[VendorEvent]:
        """Split the body into vendor events; raise BadEnvelope if it is not this vendor's envelope."""

    def normalize(self, event: VendorEvent) -> EventEnvelope | None:
        """The canonical event, or None if the hub does not route this event type (recorded as ignored).

        Raise Unmappable when the type is routed but the business content cannot be mapped.
        """

    def acknowledge(self, events: list[VendorEvent]) -> tuple[str, str] | None:
        """A vendor-specific success body as (content_type, body), or None for the standard JSON receipt."""


def equal(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison of secrets, signatures and tokens."""
    # surrogatepass: a header or query value can carry any code point; comparing must never raise
    left = a.encode("utf-8", "surrogatepass") if isinstance(a, str) else a
    right = b.encode("utf-8", "surrogatepass") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def any_equal(candidate: str | bytes, expected: list[str] | list[bytes]) -> bool:
    """True if candidate equals any expected value; compares against all of them (no early exit)."""
    matched = False
    for value in expected:
        matched |= equal(candidate, value)
    return matched
