"""/kpis: the customer-to-cash KPIs of a window, from the KPI projection (erphub.kpis, docs/kpis.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from erphub.kpis import report
from erphub.kpis.store import KpiStore

router = Router()


@router.get("/kpis", summary="The customer-to-cash KPIs: what waits now, and the window's rates, durations and series")
def kpis(window: Annotated[Literal["24h", "7d"], Query(description="24h (hourly series) or 7d (daily)")] = "24h",
         ) -> dict[str, Any]:
    return report.build(KpiStore(), window)
