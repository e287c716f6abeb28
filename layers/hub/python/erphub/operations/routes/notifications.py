"""/notifications: what operators were told (exception opened, past its SLA, workflow failed, DLQ received)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from erphub.operations import inbox, notify

router = Router()


@router.get("/notifications", summary="Notifications sent to operators, newest first")
def notifications(days: Annotated[int, Query(ge=1, le=notify.KEEP_DAYS)] = 1) -> list[dict[str, Any]]:
    return list(inbox.plain(notify.recent(days)))
