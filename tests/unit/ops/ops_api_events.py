"""API Gateway events as the Cognito authorizer hands them to the ops function (for the in-process tests)."""

from __future__ import annotations

import json
from typing import Any


def api_event(method: str, path: str, groups: str | None = None, body: Any = None, **query: str) -> dict:
    """A REST API proxy event; groups=None: no authorizer context (as if no authorizer had run)."""
    context: dict[str, Any] = {"httpMethod": method, "path": path, "stage": "dev", "requestId": "r-1",
                               "resourcePath": "/ops/v1/{proxy+}"}
    if groups is not None:
        context["authorizer"] = {"claims": {"sub": "u-1", "cognito:username": "u-1", "email": "ann@example.com",
                                            "cognito:groups": groups, "token_use": "id"}}
    return {"httpMethod": method, "path": path, "resource": "/ops/v1/{proxy+}", "headers": {},
            "multiValueHeaders": {}, "queryStringParameters": query or None, "pathParameters": None,
            "requestContext": context, "body": None if body is None else json.dumps(body), "isBase64Encoded": False}


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "ops-api", 256, "r-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ops-api"
