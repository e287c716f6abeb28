"""The KPI projection table (KPI_TABLE). Two kinds of item, both written idempotently from stream records:

  TRACK#<gauge>, <id>        a thing that waits (an order for its ERP posting, an invoice or payment for its sync,
                             an open exception, a running workflow): opened_at, closed_at; `pending` = <gauge> while
                             it is open and not closed, which puts it in the sparse `pending` index (the gauges are
                             one Query each, never a scan)
  O2C#<contract id>, MILESTONES   a contract's order-to-cash milestones (won_at, invoiced_at + invoice_id,
                             paid:<invoice id>), the first of each seen kept (kpis/cycle.py)
  FACT#<name>#<YYYY-MM-DD>, <at>#<id>   one thing that happened (a webhook received, a posting made, an exception
                             resolved, a run ended), with its duration; keyed by the record it came from, so a
                             redelivered stream record rewrites the same item

A track is one item updated atomically, so its opening and closing may arrive in either order (they come from two
streams): whichever comes second completes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from erphub import aws
from erphub.errors import Conflict, Permanent
from erphub.settings import get_settings
from erphub.store.tables import from_item, put_items, to_item, translated

PENDING_INDEX = "pending"


def kpi_table() -> str:
    name = get_settings().kpi_table
    if not name:
        raise Permanent("KPI_TABLE is not configured", system="dynamodb")
    return name


def seconds_between(start: str, end: str) -> float:
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 3)


class KpiStore:
    def __init__(self, table: str | None = None, client: Any = None, batched: bool = False) -> None:
        """batched: facts are kept until `flush` and written 25 to a BatchWriteItem (the projector's stream batches)."""
        self.table = table or kpi_table()
        self.ddb = client or aws.client("dynamodb")
        self._facts: dict[tuple[str, str], dict[str, Any]] | None = {} if batched else None

    # --- tracks ----------------------------------------------------------------------------------------
    def open(self, gauge: str, item_id: str, at: str, **attributes: Any) -> dict[str, Any] | None:
        """Open a track (the earliest opening wins); returns the track if it was already closed (then complete)."""
        names = {f"#a{i}": k for i, k in enumerate(attributes)}
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(attributes)))
        values = {":t": at, ":g": gauge, **{f":a{i}": v for i, v in enumerate(attributes.values())}}
        try:
            self._update(gauge, item_id, "SET opened_at = if_not_exists(opened_at, :t), pending = :g"
                         + (", " + sets if sets else ""), values, names,
                         condition="attribute_not_exists(closed_at)")
        except Conflict:  # closed before we saw it open: record when it opened, it stays out of the gauge
            return self._update(gauge, item_id, "SET opened_at = if_not_exists(opened_at, :t)", {":t": at}, {})
        return None

    def close(self, gauge: str, item_id: str, at: str, **attributes: Any) -> dict[str, Any]:
        """Close a track (the first closing wins); returns it, with opened_at if its opening was seen."""
        names = {f"#a{i}": k for i, k in enumerate(attributes)}
        sets = "".join(f", #a{i} = :a{i}" for i in range(len(attributes)))
        values = {":t": at, **{f":a{i}": v for i, v in enumerate(attributes.values())}}
        return self._update(gauge, item_id, "SET closed_at = if_not_exists(closed_at, :t)" + sets + " REMOVE pending",
                            values, names)

    def pending(self, gauge: str) -> list[dict[str, Any]]:
        """The open tracks of a gauge, oldest first."""
        items: list[dict[str, Any]] = []
        with translated(f"pending {gauge}"):
            for page in self.ddb.get_paginator("query").paginate(
                    TableName=self.table, IndexName=PENDING_INDEX, KeyConditionExpression="pending = :g",
                    ExpressionAttributeValues={":g": {"S": gauge}}):
                items += [from_item(i) for i in page["Items"]]
        return sorted(items, key=lambda i: i.get("opened_at", ""))

    def _update(self, gauge: str, item_id: str, expression: str, values: dict[str, Any], names: dict[str, str],
                condition: str = "") -> dict[str, Any]:
        kwargs: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        with translated(f"TRACK#{gauge} {item_id}"):
            answer = self.ddb.update_item(TableName=self.table, Key=to_item({"pk": f"TRACK#{gauge}", "sk": item_id}),
                                          UpdateExpression=expression, ExpressionAttributeValues=to_item(values),
                                          ReturnValues="ALL_NEW", **kwargs)
        return from_item(answer["Attributes"])

    # --- milestones ------------------------------------------------------------------------------------
    def milestone(self, contract_id: str, name: str, at: str, **attributes: Any) -> dict[str, Any]:
        """Record a contract's milestone once (the first seen is kept, with its attributes); returns them all."""
        names = {"#m": name, **{f"#a{i}": k for i, k in enumerate(attributes)}}
        sets = "".join(f", #a{i} = if_not_exists(#a{i}, :a{i})" for i in range(len(attributes)))
        values = {":t": at, **{f":a{i}": v for i, v in enumerate(attributes.values())}}
        with translated(f"O2C#{contract_id}"):
            answer = self.ddb.update_item(TableName=self.table,
                                          Key=to_item({"pk": f"O2C#{contract_id}", "sk": "MILESTONES"}),
                                          UpdateExpression="SET #m = if_not_exists(#m, :t)" + sets,
                                          ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values),
                                          ReturnValues="ALL_NEW")
        return from_item(answer["Attributes"])

    # --- facts -----------------------------------------------------------------------------------------
    def fact(self, name: str, at: str, item_id: str, **attributes: Any) -> None:
        key = f"FACT#{name}#{at[:10]}", f"{at}#{item_id}"
        attributes = {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in attributes.items()}
        item = to_item({"pk": key[0], "sk": key[1], "at": at, "id": item_id, **attributes})
        if self._facts is not None:
            self._facts[key] = item  # the same fact twice in a batch is written once, the later one, as two puts would
            return
        with translated(f"FACT#{name} {item_id}"):
            self.ddb.put_item(TableName=self.table, Item=item)

    def flush(self) -> None:
        """Write the facts kept since the last flush (a batched store; an unbatched one has none kept)."""
        if not self._facts:
            return
        facts, self._facts = list(self._facts.values()), {}
        put_items(self.ddb, self.table, facts, "KPI facts")

    def facts(self, name: str, since: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
        """The facts of a name from `since` on: one Query per day of the window."""
        until = until or datetime.now(UTC)
        found: list[dict[str, Any]] = []
        day = since.date()
        while day <= until.date():
            with translated(f"FACT#{name}#{day}"):
                for page in self.ddb.get_paginator("query").paginate(
                        TableName=self.table, KeyConditionExpression="pk = :pk AND sk >= :since",
                        ExpressionAttributeValues={":pk": {"S": f"FACT#{name}#{day.isoformat()}"},
                                                   ":since": {"S": since.isoformat()}}):
                    found += [from_item(i) for i in page["Items"]]
            day += timedelta(days=1)
        return [f for f in found if f["at"] <= until.isoformat()]
