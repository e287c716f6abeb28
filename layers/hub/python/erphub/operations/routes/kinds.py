"""/kinds: every kind of exception the hub opens, from config/exception_kinds.json, so the console's and the CLI's
kind filters come from one place and a new kind cannot be left out of them."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from erphub.operations import kinds, sla

router = Router()


class KindInfo(BaseModel):
    kind: str
    title: str
    owner: str
    sla_seconds: int
    actions: list[str]


@router.get("/kinds", summary="Every kind of exception, with its owner, SLA and actions")
def list_kinds() -> list[KindInfo]:
    return [KindInfo(kind=name, **kinds.of(name).model_dump(include={"title", "owner", "sla_seconds", "actions"}))
            for name in concrete()]


def concrete() -> list[str]:
    """The kinds as exceptions carry them: `<workflow>_failed` becomes one kind per workflow (activation_failed...)."""
    names: list[str] = []
    for name in kinds.known():
        if name == kinds.WORKFLOW_FAILED:
            names += [f"{workflow}_failed" for workflow in sla.workflow_slas()]
        else:
            names.append(name)
    return names
