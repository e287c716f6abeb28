"""/timeline: the run history of one deal, contract or customer, operator actions included."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.api_gateway import Router

from erphub.operations import timeline

router = Router()


@router.get("/timeline/<subject>/<subject_id>",
            summary="Webhooks, events, executions and steps, vendor records, refusals, exceptions and operator "
                    "actions of a deal, contract or customer, in time order")
def show(subject: Literal["deal", "contract", "customer"], subject_id: str) -> timeline.Timeline:
    return timeline.timeline(subject, subject_id)
