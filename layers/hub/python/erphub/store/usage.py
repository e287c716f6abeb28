"""The usage table: usage records counted once each, and per subscription, meter and billing period their total.

Items (pk, sk):
  REC#<source>#<record id>, REC                 a usage record counted (the dedup marker; its period and quantity)
  LATE#<source>#<record id>, LATE               a usage record refused: its period had closed (kept to be seen)
  TOTAL#<system>#<subscription>#<metric>, PERIOD#<start>   the period's total; while open it carries
                                                `due` = "OPEN" and `closes_at`, the sparse index "due" the reporter
                                                reads; reporting removes them (state reported, then booked)

A record is counted by one transaction: the marker (only if absent) and an ADD to the total (only while the
period is open). DynamoDB numbers are exact decimals, so totals are exact under any concurrency and redelivery.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Permanent, Transient
from erphub.settings import get_settings
from erphub.store.tables import from_item, to_item, translated

OPEN = "OPEN"
DUE_INDEX = "due"


def usage_table() -> str:
    name = get_settings().usage_table
    if not name:
        raise Permanent("USAGE_TABLE is not configured", system="dynamodb")
    return name


def total_key(system: str, subscription_id: str, metric: str, period_start: str) -> dict[str, str]:
    return {"pk": f"TOTAL#{system}#{subscription_id}#{metric}", "sk": f"PERIOD#{period_start}"}


def _now() -> str:
    return datetime.now(UTC).isoformat()


class UsageStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or usage_table()
        self.ddb = client or aws.client("dynamodb")

    def count(self, marker: dict[str, Any], total: dict[str, Any]) -> str:
        """Count one record into its period: "accepted", "duplicate" (its id was counted before) or "closed"
        (the period is closed: the record is late)."""
        key = total_key(total["system"], total["subscription_id"], total["metric"], total["period_start"])
        names = {"#q": "quantity", "#n": "records", "#ctx": "context", "#due": "due"}
        values = {":q": Decimal(marker["quantity"]), ":one": 1, ":open": OPEN, ":closes": total["closes_at"],
                  ":end": total["period_end"], ":ctx": total["context"]}
        update = {"TableName": self.table, "Key": to_item(key),
                  "UpdateExpression": "ADD #q :q, #n :one SET period_end = :end, closes_at = :closes, "
                                      "#due = if_not_exists(#due, :open), #ctx = if_not_exists(#ctx, :ctx)",
                  "ConditionExpression": "attribute_not_exists(closed_at)",
                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}
        put = {"TableName": self.table, "Item": to_item({**marker, "counted_at": _now()}),
               "ConditionExpression": "attribute_not_exists(pk)"}
        try:
            self.ddb.transact_write_items(TransactItems=[{"Put": put}, {"Update": update}])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise Transient(f"dynamodb {exc.response['Error']['Code']} on {marker['pk']}",
                                system="dynamodb", record=marker["pk"]) from exc
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return "duplicate"
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                return "closed"
            raise Transient(f"usage transaction cancelled: {reasons}", system="dynamodb",
                            record=marker["pk"]) from exc
        return "accepted"

    def refuse_late(self, marker: dict[str, Any], reason: str) -> bool:
        """Keep a refused record where an operator sees it; False if it was refused before (a redelivery)."""
        item = {**marker, "pk": marker["pk"].replace("REC#", "LATE#", 1), "sk": "LATE", "reason": reason,
                "refused_at": _now()}
        try:
            self.ddb.put_item(TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise Transient(f"dynamodb {exc.response['Error']['Code']} on {item['pk']}", system="dynamodb") from exc
        return True

    def due(self, as_of: str) -> list[dict[str, Any]]:
        """Open or unfinished periods whose cut-off has passed by `as_of` (ISO), oldest first."""
        kwargs: dict[str, Any] = {"TableName": self.table, "IndexName": DUE_INDEX,
                                  "KeyConditionExpression": "#due = :open AND closes_at <= :as_of",
                                  "ExpressionAttributeNames": {"#due": "due"},
                                  "ExpressionAttributeValues": to_item({":open": OPEN, ":as_of": as_of})}
        found: list[dict[str, Any]] = []
        with translated("usage due"):
            for page in self.ddb.get_paginator("query").paginate(**kwargs):
                found += [from_item(i) for i in page["Items"]]
        return found

    def close(self, pk: str, sk: str) -> dict[str, Any]:
        """Close the period (no record is counted into it any more) and return its final total. Closing again
        (a retried report) returns the same total."""
        with translated(f"{pk} {sk}"):
            item = self.ddb.update_item(
                TableName=self.table, Key=to_item({"pk": pk, "sk": sk}),
                UpdateExpression="SET closed_at = if_not_exists(closed_at, :now), #s = if_not_exists(#s, :closed)",
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues=to_item({":now": _now(), ":closed": "closed"}),
                ReturnValues="ALL_NEW")["Attributes"]
        return from_item(item)

    def mark(self, pk: str, sk: str, state: str | None = None, finished: bool = False, **attributes: Any) -> None:
        """Record a step of the report (reported, booked) or its last error; a finished period leaves the due
        index."""
        values = {**({":s": state} if state else {}), **{f":{k}": v for k, v in attributes.items()}}
        sets = ", ".join([*(["#s = :s"] if state else []), *(f"{k} = :{k}" for k in attributes)])
        names = {**({"#s": "state"} if state else {}), **({"#due": "due"} if finished else {})}
        with translated(f"{pk} {sk}"):
            self.ddb.update_item(TableName=self.table, Key=to_item({"pk": pk, "sk": sk}),
                                 UpdateExpression=f"SET {sets}" + (" REMOVE #due" if finished else ""),
                                 ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with translated(f"{pk} {sk}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": pk, "sk": sk})).get("Item")
        return from_item(item) if item else None
