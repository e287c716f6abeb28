"""Typed errors -> the API's error contract ({"error","message","code","correlation_id"}), in one table."""

from __future__ import annotations

from erphub.errors import Conflict, HubError, NotFound, Permanent, RateLimited, Transient, ValidationFailed

# most specific first: RateLimited is a Transient, ValidationFailed a Permanent
_STATUS: list[tuple[type[HubError], int, str]] = [
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (ValidationFailed, 422, "rule_failed"),
    (RateLimited, 503, "vendor_rate_limited"),
    (Transient, 503, "vendor_unavailable"),
    (Permanent, 502, "vendor_refused"),
]


def status_of(exc: HubError) -> tuple[int, str]:
    """The HTTP status and machine-readable code of a domain error (a vendor's trouble is never a 5xx of ours
    without saying so: 502/503 name the system in the message)."""
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal_error"


def body(error: str, message: str, code: str, correlation_id: str) -> dict[str, str]:
    return {"error": error, "message": message, "code": code, "correlation_id": correlation_id}
