"""What the OpenAPI document says besides the routes: title, version, the API key every route needs, and the
answers API Gateway itself gives before the function runs (401 without a valid key, 429 over the usage plan)."""

from __future__ import annotations

from typing import Any

from erphub.api.models import ErrorBody

TITLE = "erphub synchronous API"
VERSION = "1.0.0"
DESCRIPTION = ("Account validation, quote pricing and approval, tax calculation and status lookups across CRM, "
               "billing, customer success and ERP. Every route needs an API key (x-api-key) of a usage plan; "
               "see docs/api.md.")
SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


# every operation documents these; a route adds its own (404, 409, 422, 502, 503) where it can answer them
GATEWAY_ANSWERS: dict[int, dict[str, Any]] = {
    401: _error("no API key, or not a valid one (API Gateway, before the function runs)"),
    429: {**_error("over the usage plan's rate or quota; Retry-After says when to try again"),
          "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}},
    422: _error("the request does not match the schema"),
}
BODY = {**GATEWAY_ANSWERS, 400: _error("the body is not UTF-8 encoded JSON"),
        415: _error("the body is not application/json")}
LOOKUP = {**GATEWAY_ANSWERS, 404: _error("no such record in the hub")}
VENDOR = {**BODY, 502: _error("a vendor refused the request"), 503: _error("a vendor is unavailable")}
QUOTE = {**VENDOR, 409: _error("the quote was decided already: submit changes as a new quote")}


def security_schemes() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    return {"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header, description="the consumer's API Gateway key")}


def answers(model: type, errors: dict[int, dict[str, Any]]) -> dict[int, Any]:
    """A route's documented answers: 200 with its model, and the errors it (or API Gateway before it) gives."""
    return {200: {"description": "the answer", "content": {"application/json": {"model": model}}}, **errors}
