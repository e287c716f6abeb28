"""Outbound vendor calls, counted per system and hour in the KPI table: the source of the API error rates.

Every HTTP attempt a connector makes (connectors/http.py) adds to one counter item with one atomic ADD:

  CALLS#<YYYY-MM-DD>, <YYYY-MM-DDTHH>#<vendor>   calls, errors, throttles, `error:<TypedError>`, `http:<class>`

One write per attempt keeps the figures exact without a per-call record; the day partition keeps the report to one
Query per day. Counting is observation, never part of the call: a failed write is logged and the call goes on.
Only functions given KPI_TABLE count (the four adapter Lambdas, through which the workflows, the ERP posting and
reconciliation reach every vendor); elsewhere `record` does nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from erphub import aws
from erphub.errors import HubError, RateLimited
from erphub.observability import logger
from erphub.settings import get_settings
from erphub.store.tables import from_item, translated


def status_class(outcome: HubError) -> str:
    """The HTTP class of a failed attempt (`4xx`, `5xx`), or `network` when no answer came (timeout, refused)."""
    status = getattr(outcome, "status", None)
    return f"{int(status) // 100}xx" if status else "network"


def record(vendor: str, outcome: Any, moment: datetime | None = None) -> None:
    """Count one attempt: a response is a call; a typed error is also an error (and a 429 a throttle)."""
    table = get_settings().kpi_table
    if not table:
        return
    moment = moment or datetime.now(UTC)
    adds = {"calls": 1}
    if isinstance(outcome, HubError):
        adds |= {"errors": 1, f"error:{type(outcome).__name__}": 1, f"http:{status_class(outcome)}": 1}
        if isinstance(outcome, RateLimited):
            adds["throttles"] = 1
    names = {f"#c{i}": name for i, name in enumerate(adds)}
    try:
        aws.client("dynamodb").update_item(
            TableName=table, Key={"pk": {"S": f"CALLS#{moment.date().isoformat()}"},
                                  "sk": {"S": f"{moment.strftime('%Y-%m-%dT%H')}#{vendor}"}},
            UpdateExpression="ADD " + ", ".join(f"#c{i} :one" for i in range(len(adds))),
            ExpressionAttributeNames=names, ExpressionAttributeValues={":one": {"N": "1"}})
    except Exception as exc:  # whatever fails here, the vendor call it observes must go on
        logger.warning("vendor call not counted", extra={"vendor": vendor, "error": repr(exc)})


def error_rates(ddb: Any, table: str, since: datetime, until: datetime) -> dict[str, dict[str, Any]]:
    """Per vendor, the hours from `since`'s to `until`'s: calls, errors, error_rate, throttles, by_error, by_http."""
    first, last = since.strftime("%Y-%m-%dT%H"), until.strftime("%Y-%m-%dT%H")
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    day = since.date()
    while day <= until.date():
        with translated(f"CALLS#{day}"):
            items = [from_item(i) for page in ddb.get_paginator("query").paginate(
                TableName=table, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={":pk": {"S": f"CALLS#{day.isoformat()}"}, ":a": {"S": first},
                                           ":b": {"S": last + "#~"}}) for i in page["Items"]]
        for item in items:
            vendor = str(item["sk"]).split("#", 1)[1]
            for name, value in item.items():
                if name not in ("pk", "sk"):
                    totals[vendor][name] += int(value)
        day += timedelta(days=1)
    return {vendor: _rates(counts) for vendor, counts in sorted(totals.items())}


def _rates(counts: dict[str, int]) -> dict[str, Any]:
    calls, errors = counts.get("calls", 0), counts.get("errors", 0)
    return {"calls": calls, "errors": errors, "error_rate": round(errors / calls, 4) if calls else None,
            "throttles": counts.get("throttles", 0),
            "by_error": {k.removeprefix("error:"): v for k, v in sorted(counts.items()) if k.startswith("error:")},
            "by_http": {k.removeprefix("http:"): v for k, v in sorted(counts.items()) if k.startswith("http:")}}
