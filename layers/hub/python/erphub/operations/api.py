"""The operator API `/ops/v1`: one Powertools REST resolver with validation, the role rule as its one
middleware, typed errors mapped once, and a Router per topic (routes/). A new router is one line in ROUTERS.

The OpenAPI document (openapi/ops-v1.json) is generated from this resolver: `python -m tools.openapi`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from erphub.errors import Conflict, HubError, NotFound, Permanent, ValidationFailed
from erphub.observability import logger
from erphub.operations import roles
from erphub.operations.routes import (
    archive,
    dlqs,
    exceptions,
    kinds,
    kpis,
    notifications,
    quarantine,
    reconciliations,
    runs,
    timeline,
)

PREFIX = "/ops/v1"
TITLE, VERSION = "erphub operator API", "1.0.0"
ROUTERS: list[Router] = [exceptions.router, runs.router, notifications.router, quarantine.router, dlqs.router,
                         archive.router, timeline.router, reconciliations.router,
                         kpis.router, kinds.router]
# the Cognito user pool authorizer reads the ID token from this header (template.yaml OpsApi)
SECURITY_SCHEME = "CognitoIdToken"


def create_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    # Powertools runs request validation before any middleware; the role rule must come first (a viewer's POST
    # with a bad body is a 403, not a 422 describing the body), so it wraps the validation middleware itself.
    # tests/unit/ops/test_ops_roles.py fails if a Powertools release stops honouring this.
    validation = app._request_validation_middleware
    app._request_validation_middleware = lambda app_, next_: role_rule(  # type: ignore[assignment]
        app_, lambda a: validation(a, next_))
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    _error_handlers(app)
    return app


def role_rule(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    """The one authorization check: GET needs viewer or operator, anything else operator (roles.py)."""
    try:
        principal = roles.principal_of(app.current_event.raw_event)
        roles.require(app.current_event.http_method, principal)
    except (roles.Unauthenticated, roles.Forbidden) as denied:
        return _error(denied.http_status, denied)
    app.append_context(principal=principal)
    logger.append_keys(operator=principal.name)
    return next_middleware(app)


_STATUS: list[tuple[type[HubError], int]] = [(NotFound, 404), (Conflict, 409), (ValidationFailed, 422),
                                             (Permanent, 400)]


def _error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(HubError)
    def hub_error(error: HubError) -> Response:
        status = next((code for kind, code in _STATUS if isinstance(error, kind)), 503)
        if status == 503:
            logger.warning("operator action failed", extra={"error": error.to_dict()})
        return _error(status, error)


def _error(status: int, error: HubError) -> Response:
    body: dict[str, Any] = error.to_dict()
    return Response(status_code=status, content_type="application/json", body=body)


def openapi_document() -> str:
    """The OpenAPI 3 document of every route, as committed in openapi/ops-v1.json."""
    scheme = APIKey(name="Authorization", **{"in": APIKeyIn.header},
                    description="The Cognito ID token of a user in the viewer or operator group (erphub ops login)")
    return create_app().get_openapi_json_schema(
        title=TITLE, version=VERSION, description=__doc__.split("\n\n")[0] if __doc__ else None,
        security_schemes={SECURITY_SCHEME: scheme}, security=[{SECURITY_SCHEME: []}])
