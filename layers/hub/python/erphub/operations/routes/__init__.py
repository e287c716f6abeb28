"""One Powertools Router per topic of the operator API; erphub.operations.api includes each under /ops/v1."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict

from erphub.operations.roles import Principal


def actor(router: Router) -> str:
    """The verified caller the role rule put in the context (api.role_rule)."""
    principal = router.context.get("principal")
    assert isinstance(principal, Principal), "the role rule runs before every route"
    return principal.name


class StrictRequest(BaseModel):
    """A request body whose misspelt or unknown field is refused (422) instead of silently ignored."""

    model_config = ConfigDict(extra="forbid")
