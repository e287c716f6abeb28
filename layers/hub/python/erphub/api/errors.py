"""Typed errors -> the API's error contract ({"error","message","code","correlation_id"}), in one table."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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


def install(app: APIGatewayRestResolver, logger: Logger) -> None:
    """The API's answers for what its routes do not return: a domain error, an unreadable path, an invalid body,
    each in the error contract above with the request's correlation id."""

    def answer(status_code: int, error: str, message: str, code: str) -> Response:
        return Response(status_code=status_code, content_type="application/json",
                        body=body(error, message, code, logger.get_correlation_id() or ""))

    @app.exception_handler(HubError)
    def refuse(exc: HubError) -> Response:
        code, name = status_of(exc)
        logger.info("api request refused",
                    extra={"error": type(exc).__name__, "reason": exc.reason, "system": exc.system})
        return answer(code, type(exc).__name__, exc.reason, name)

    @app.not_found
    def no_route(_: Exception) -> Response:
        """A path API Gateway routed here that the resolver cannot read (e.g. an id it cannot match)."""
        return answer(404, "NotFound", f"no such record: {app.current_event.path}", "not_found")

    @app.exception_handler(RequestValidationError)
    def invalid(exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                             for e in exc.errors()[:10])
        return answer(422, "RequestInvalid", problems or "the request does not match the schema", "request_invalid")
