"""The operator API over HTTP, as the `erphub ops` CLI (and the e2e tests) use it: sign in to the Cognito user
pool, keep the session, call /ops/v1 with the ID token. Against the local stack by default (its gateway, its
embedded Cognito, the dev users of local/dev-users.json) or a deployed stack (--url, --client-id, --region)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SESSION = Path(".erphub") / "ops-session.json"


class OpsError(Exception):
    """The API refused (status and its error body) or could not be reached (status 0)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status, self.body = status, body


@dataclass
class Session:
    url: str  # .../ops/v1
    id_token: str
    user: str
    expires_at: float

    def save(self, path: Path = SESSION) -> None:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        path.chmod(0o600)  # a bearer token

    @classmethod
    def load(cls, path: Path = SESSION) -> Session | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def sign_in(client_id: str, username: str, password: str, *, region: str, endpoint_url: str | None = None) -> dict:
    """Cognito USER_PASSWORD_AUTH: the AuthenticationResult (IdToken, ExpiresIn, ...)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    idp = boto3.client("cognito-idp", region_name=region, endpoint_url=endpoint_url,
                       config=Config(signature_version=UNSIGNED))  # InitiateAuth is unauthenticated
    try:
        answer = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": username, "PASSWORD": password})
    except idp.exceptions.NotAuthorizedException as exc:
        raise OpsError(401, f"sign-in refused for {username}: wrong user or password") from exc
    except idp.exceptions.UserNotFoundException as exc:
        raise OpsError(401, f"sign-in refused for {username}: wrong user or password") from exc
    if "AuthenticationResult" not in answer:
        raise OpsError(401, f"sign-in for {username} needs {answer.get('ChallengeName')}: finish it in the "
                            "Cognito hosted UI or with the AWS CLI first")
    return dict(answer["AuthenticationResult"])


class OpsClient:
    def __init__(self, url: str, token: str | None, timeout: float = 30) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    @classmethod
    def from_session(cls, session: Session) -> OpsClient:
        if session.expires_at <= time.time():
            raise OpsError(401, f"the session of {session.user} has expired: erphub ops login")
        return cls(session.url, session.id_token)

    def get(self, path: str, **query: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in query.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body=body or {})

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        import requests

        headers = {"Authorization": self.token} if self.token else {}
        try:
            response = requests.request(method, f"{self.url}{path}", params=params, json=body, headers=headers,
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            raise OpsError(0, f"cannot reach {self.url}: {type(exc).__name__}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {"message": response.text[:200]}
        if response.status_code >= 400:
            raise OpsError(response.status_code, _message(response.status_code, answer), answer)
        return answer


def _message(status: int, answer: Any) -> str:
    if not isinstance(answer, dict):
        return f"HTTP {status}"
    if "detail" in answer:  # Powertools' validation error: say which field
        fields = ", ".join(".".join(map(str, d.get("loc", [])[1:])) + f" {d.get('type')}" for d in answer["detail"])
        return f"HTTP {status}: invalid request: {fields}"
    name = answer.get("error") or {401: "Unauthorized", 403: "Forbidden"}.get(status, f"HTTP {status}")
    return f"{name}: {answer.get('message') or ''}".rstrip(": ")
