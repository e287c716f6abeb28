"""Domain errors. State machines match these by class name in Retry/Catch; the API maps them centrally.

Each error carries what an operator needs to act: the system, the record and the reason.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""

    def __init__(self, reason: str, *, system: str = "", record: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.system = system
        self.record = record

    def to_dict(self) -> dict[str, str]:
        """The error as the APIs answer it (the operator API's error body)."""
        return {"error": type(self).__name__, "message": self.reason, "system": self.system, "record": self.record}


# --- outbound (connectors); names are matched by ASL ErrorEquals -------------------------------------
class Transient(HubError):
    """5xx, timeouts, connection errors: retrying later may succeed."""


class RateLimited(Transient):
    """429 or a vendor's concurrency limit; retry_after is the server's hint in seconds."""

    def __init__(self, reason: str, *, retry_after: float | None = None, system: str = "", record: str = "") -> None:
        super().__init__(reason, system=system, record=record)
        self.retry_after = retry_after


class Conflict(HubError):
    """The record exists already (or changed underneath us); existing_id names it where known."""

    def __init__(self, reason: str, *, existing_id: str | None = None, system: str = "", record: str = "") -> None:
        super().__init__(reason, system=system, record=record)
        self.existing_id = existing_id


class NotFound(HubError):
    """The record does not exist in the system asked."""


class Permanent(HubError):
    """Retrying cannot help (authentication refused, forbidden, a request the vendor will never take)."""


class ValidationFailed(Permanent):
    """The vendor (or the hub) rejected the content; message says what to fix."""


# --- inbound (webhooks); each maps to one HTTP status -------------------------------------------------
class IngestRejected(HubError):
    """A webhook refused before anything is written."""

    http_status = 400


class UnknownSource(IngestRejected):
    http_status = 404


class AuthenticationFailed(IngestRejected):
    http_status = 401


class BadEnvelope(IngestRejected):
    """The body is not the vendor's envelope (not JSON/SOAP, missing id or type)."""

    http_status = 400


class PayloadTooLarge(IngestRejected):
    http_status = 413


class Unmappable(HubError):
    """A verified event whose business content cannot be mapped: stored and quarantined, never dropped."""
