"""The Cognito user pool authorizer of the template's APIs, locally: the user pools, clients and groups created
in the embedded AWS (moto's cognito-idp issues real RS256 JWTs and serves the pool's JWKS), the dev users of
local/dev-users.json, and the gateway-side check API Gateway makes before the function runs.

The check, as API Gateway's COGNITO_USER_POOLS authorizer does it (no authorization scopes: an ID token):
the identity header present, a JWT signed by the pool's key, not expired, issued by that pool, `token_use` id
and `aud` one of the pool's app clients; else 401 {"message": "Unauthorized"} and the function is not called.
The verified claims reach the handler as requestContext.authorizer.claims, every value a string, groups
comma separated (as API Gateway passes them).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEV_USERS = Path(__file__).with_name("dev-users.json")


def dev_users(path: Path = DEV_USERS) -> dict[str, dict[str, Any]]:
    return dict(json.loads(path.read_text(encoding="utf-8"))["users"])


# --- provisioning ---------------------------------------------------------------------------------------
def creators(p: Any) -> dict[str, Any]:
    return {"AWS::Cognito::UserPool": lambda lid, props: _pool(p, lid, props),
            "AWS::Cognito::UserPoolClient": lambda lid, props: _client(p, lid, props),
            "AWS::Cognito::UserPoolGroup": lambda lid, props: _group(p, lid, props)}


def _pool(p: Any, logical_id: str, props: dict[str, Any]) -> None:
    request = {k: props[k] for k in ("UsernameAttributes", "AutoVerifiedAttributes", "AdminCreateUserConfig",
                                     "Policies") if k in props}
    pool = p.aws.client("cognito-idp").create_user_pool(
        PoolName=p.t.name_for(logical_id, props.get("UserPoolName")), **request)["UserPool"]
    p.record(logical_id, pool["Id"], f"{pool['Name']} ({pool['Id']})", Arn=pool["Arn"],
             ProviderName=f"cognito-idp.{p.t.region}.amazonaws.com/{pool['Id']}",
             ProviderURL=f"https://cognito-idp.{p.t.region}.amazonaws.com/{pool['Id']}", UserPoolId=pool["Id"])


def _client(p: Any, logical_id: str, props: dict[str, Any]) -> None:
    client = p.aws.client("cognito-idp").create_user_pool_client(
        UserPoolId=props["UserPoolId"], ClientName=props.get("ClientName") or logical_id,
        GenerateSecret=bool(props.get("GenerateSecret", False)),
        ExplicitAuthFlows=list(props.get("ExplicitAuthFlows") or []))["UserPoolClient"]
    p.record(logical_id, client["ClientId"], f"{client['ClientName']} ({client['ClientId']})",
             ClientId=client["ClientId"])


def _group(p: Any, logical_id: str, props: dict[str, Any]) -> None:
    """The group, then the dev users that belong to it (created on first use, password set as permanent)."""
    idp, pool = p.aws.client("cognito-idp"), props["UserPoolId"]
    group = props.get("GroupName") or logical_id
    idp.create_group(UserPoolId=pool, GroupName=group, Description=props.get("Description", ""))
    members = []
    for user in dev_users().values():
        if group not in user["groups"]:
            continue
        try:
            idp.admin_get_user(UserPoolId=pool, Username=user["email"])
        except idp.exceptions.UserNotFoundException:
            idp.admin_create_user(UserPoolId=pool, Username=user["email"], MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": user["email"]},
                                                  {"Name": "email_verified", "Value": "true"}])
            idp.admin_set_user_password(UserPoolId=pool, Username=user["email"], Password=user["password"],
                                        Permanent=True)
        idp.admin_add_user_to_group(UserPoolId=pool, Username=user["email"], GroupName=group)
        members.append(user["email"])
    p.record(logical_id, group, f"{group} (dev users: {', '.join(members) or 'none'})")


# --- the gateway-side check -------------------------------------------------------------------------------
@dataclass
class PoolAuthorizer:
    pool_id: str
    issuer: str
    header: str = "Authorization"
    client_ids: set[str] = field(default_factory=set)


class Denied(Exception):
    """401: API Gateway's answer before the function runs."""


class Authorizers:
    """Route -> its Cognito authorizer (none: the route is open), and the check of a request against it."""

    def __init__(self, template: Any, aws_url: str, idp: Any) -> None:
        self.template, self.aws_url, self.idp = template, aws_url, idp
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def for_route(self, route: Any) -> PoolAuthorizer | None:
        event = self.template.sam[route.function_id]["Properties"]["Events"][route.event_name]["Properties"]
        api_id, api = self.template.api_of(event)
        if not api_id:
            return None
        auth = api.get("Auth") or {}
        name = (event.get("Auth") or {}).get("Authorizer") or auth.get("DefaultAuthorizer")
        if not name or name == "NONE":
            return None
        spec = auth["Authorizers"][name]
        pool_arn = str(self.template.resolve(spec["UserPoolArn"]))
        pool_id = pool_arn.rsplit("/", 1)[-1]
        clients = self.idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        return PoolAuthorizer(pool_id, f"https://cognito-idp.{self.template.region}.amazonaws.com/{pool_id}",
                              (spec.get("Identity") or {}).get("Header", "Authorization"),
                              {c["ClientId"] for c in clients})

    def claims(self, authorizer: PoolAuthorizer, headers: Any) -> dict[str, str]:
        """The verified claims as API Gateway passes them; Denied if the token does not pass."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        value = str(headers.get(authorizer.header) or "").strip()
        token = value[7:].strip() if value.lower().startswith("bearer ") else value
        if not token:
            raise Denied("no token")
        try:
            decoded = jwt.decode(token, self._key_set(authorizer.pool_id), algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise Denied(f"bad token: {type(exc).__name__}") from None
        claims = decoded.claims
        if float(claims.get("exp") or 0) <= time.time():
            raise Denied("expired")
        if claims.get("iss") != authorizer.issuer or claims.get("token_use") != "id" \
                or claims.get("aud") not in authorizer.client_ids:
            raise Denied("not an ID token of this pool's clients")
        return {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in claims.items()}

    def _key_set(self, pool_id: str) -> Any:
        from joserfc.jwk import KeySet

        with self._lock:
            if pool_id not in self._keys:
                import requests

                url = f"{self.aws_url}/{pool_id}/.well-known/jwks.json"
                self._keys[pool_id] = KeySet.import_key_set(requests.get(url, timeout=5).json())
            return self._keys[pool_id]


def gateway_check(stack: Any) -> Any:
    """The gateway's hook: (route, headers) -> claims for requestContext.authorizer, None for an open route;
    raises Denied for a 401."""
    authorizers = Authorizers(stack.template, stack.aws.url, stack.client("cognito-idp"))
    by_route: dict[tuple[str, str], PoolAuthorizer | None] = {}

    def check(route: Any, headers: Any) -> dict[str, Any] | None:
        key = (route.function_id, route.event_name)
        if key not in by_route:
            by_route[key] = authorizers.for_route(route)
        authorizer = by_route[key]
        if authorizer is None:
            return None
        return {"claims": authorizers.claims(authorizer, headers)}

    return check
