"""Who calls the operator API and what they may do: the role rule, enforced once for every route.

On AWS a Cognito user pool authorizer has verified the caller's ID token before the function runs and passes
its claims in requestContext.authorizer.claims (every value a string; `cognito:groups` comma separated); the
local gateway does the same (local/cognito_authorizer.py). Rule: reading (GET) needs the viewer or operator
group; any other method needs operator. No verified caller: 401; a caller without the role: 403.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from erphub.errors import HubError

VIEWER, OPERATOR = "viewer", "operator"
READ_METHODS = ("GET", "HEAD", "OPTIONS")


class Unauthenticated(HubError):
    http_status = 401


class Forbidden(HubError):
    http_status = 403


class Principal(BaseModel):
    username: str
    email: str = ""
    groups: list[str]

    @property
    def name(self) -> str:
        """How the audit trail names the actor."""
        return self.email or self.username


def principal_of(event: dict[str, Any]) -> Principal:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    username = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
    if not username:
        raise Unauthenticated("no verified caller: sign in and send the ID token as Authorization")
    return Principal(username=str(username), email=str(claims.get("email") or ""),
                     groups=groups_of(claims.get("cognito:groups")))


def groups_of(value: Any) -> list[str]:
    """A list, or API Gateway's string form: 'viewer,operator' (REST) or '[viewer operator]' (HTTP API)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value or "").strip().strip("[]")
    return [g for g in text.replace(",", " ").split() if g]


def require(method: str, principal: Principal) -> None:
    needed = (VIEWER, OPERATOR) if method.upper() in READ_METHODS else (OPERATOR,)
    if not set(needed) & set(principal.groups):
        raise Forbidden(f"{method.upper()} needs the {' or '.join(needed)} group; {principal.name} has "
                        f"{', '.join(principal.groups) or 'none'}")
