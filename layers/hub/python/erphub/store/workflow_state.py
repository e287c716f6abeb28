"""The workflow table: where each business transaction stands, what it created, and what waits on an operator.

Items (pk, sk):
  RUN#<correlation id>, STATUS#<workflow>#<version>  one run's workflow, version, status, step, reason, started_at,
                                               updated_at (store/run_status.py derives the contract's view from them)
  RUN#<correlation id>, REC#<system>#<kind>#<key>   a record this run created (compensation reads these)
  RUN#<correlation id>, REFUSED#<entity>#<field>    a write refused by the system-of-record rules
  RUN#<correlation id>, SIGNAL#<signal>#<system>    how a system reacted to a signal (renewal risk)
  CONTRACT#<contract id>, APPLIED             the newest contract version applied (stale amendments are refused)
  EXC#<exception id>, EXC                      an exception for an operator, with the task token its workflow waits on
  RUN#<correlation id>, EXC#<exception id>     the run's pointer to it (its exceptions without a scan)
  FAIL#<queue>, MSG#<message id>               why a queue message failed (store/failures.py)
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.errors import Conflict, NotFound
from erphub.observability import emit_safely
from erphub.store.run_status import (  # noqa: F401 (the statuses are part of this module's interface)
    COMPLETED,
    FAILED,
    REFUSED,
    RUNNING,
    STATUS_PREFIX,
    WAITING,
    contract_view,
    run_key,
    split_retry,
)
from erphub.store.tables import from_item, query_partition, to_item, translated, update_expression, workflow_table


def _now() -> str:
    return datetime.now(UTC).isoformat()


class WorkflowStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or workflow_table()
        self.ddb = client or aws.client("dynamodb")

    def _put(self, values: dict[str, Any], **kwargs: Any) -> None:
        with translated(f"{values['pk']} {values['sk']}"):
            self.ddb.put_item(TableName=self.table, Item=to_item(values), **kwargs)

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with translated(f"{pk} {sk}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": pk, "sk": sk})).get("Item")
        return from_item(item) if item else None

    # --- progress and status, one record per run ------------------------------------------------------
    def record_status(self, correlation_id: str, workflow: str, status: str, *, version: str | int | None,
                      step: str = "", reason: str = "", detail: dict[str, Any] | None = None) -> None:
        """Update the status of one run (workflow + contract version, + retry); other runs keep theirs. A retry
        (<correlation id>:retry<n>) keeps its status beside the contract's other runs.

        No read first: a run's status is one UpdateItem on the item if it exists (it keeps its start, its step
        unless a new one is given, and what other writers added), else one PutItem of the whole new item (its
        stream INSERT then carries the whole item; moto 5.2.5 streams a key-only INSERT for a creating update)."""
        pk, key = self._status_key(correlation_id, workflow, version)
        now = _now()
        changes = {"workflow": workflow, "correlation_id": correlation_id, "status": status, "updated_at": now,
                   "version": str(version if version is not None else "0"), "reason": reason or None,
                   "detail": detail, **({"step": step} if step else {})}
        if self._update_existing(pk, key, changes):
            return
        try:
            self._put({"pk": pk, "sk": key, "started_at": now, "step": step, **changes},
                      ConditionExpression="attribute_not_exists(pk)")
        except Conflict:  # another writer created it in between: update what it wrote
            if not self._update_existing(pk, key, changes):
                raise

    def _update_existing(self, pk: str, sk: str, changes: dict[str, Any]) -> bool:
        try:
            with translated(f"{pk} {sk}"):
                self.ddb.update_item(TableName=self.table, Key=to_item({"pk": pk, "sk": sk}),
                                     ConditionExpression="attribute_exists(pk)", **update_expression(changes))
        except Conflict:
            return False
        return True

    def run_status(self, correlation_id: str, workflow: str, version: str | int | None) -> dict[str, Any] | None:
        """One run's status record."""
        return self._get(*self._status_key(correlation_id, workflow, version))

    def runs(self, correlation_id: str) -> list[dict[str, Any]]:
        """Every run's status record of the contract, its retries included, in key order."""
        base, _ = split_retry(correlation_id)
        return query_partition(self.ddb, self.table, f"RUN#{base}", STATUS_PREFIX)

    def status(self, correlation_id: str) -> dict[str, Any] | None:
        """The contract's view derived from its runs (run_status.contract_view)."""
        return contract_view(split_retry(correlation_id)[0], self.runs(correlation_id))

    @staticmethod
    def _status_key(correlation_id: str, workflow: str, version: str | int | None) -> tuple[str, str]:
        base, attempt = split_retry(correlation_id)
        return f"RUN#{base}", run_key(workflow, version, attempt)

    # --- the ledger of created records ---------------------------------------------------------------
    def record_created(self, correlation_id: str, system: str, kind: str, key: str, record_id: str,
                       **attributes: Any) -> None:
        self._put({"pk": f"RUN#{correlation_id}", "sk": f"REC#{system}#{kind}#{key}", "system": system,
                   "kind": kind, "key": key, "record_id": record_id, "state": "created", "at": _now(), **attributes})

    def mark_compensated(self, correlation_id: str, system: str, kind: str, key: str, state: str) -> None:
        with translated(f"RUN#{correlation_id} {kind} {key}"):
            self.ddb.update_item(TableName=self.table,
                                 Key=to_item({"pk": f"RUN#{correlation_id}", "sk": f"REC#{system}#{kind}#{key}"}),
                                 UpdateExpression="SET #s = :s, compensated_at = :t",
                                 ExpressionAttributeNames={"#s": "state"},
                                 ExpressionAttributeValues=to_item({":s": state, ":t": _now()}))

    def created(self, correlation_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        items = query_partition(self.ddb, self.table, f"RUN#{correlation_id}", "REC#")
        return [i for i in items if kind is None or i["kind"] == kind]

    def record_refusal(self, correlation_id: str, entity: str, field: str, target: str, writer: str,
                       master: str) -> None:
        self._put({"pk": f"RUN#{correlation_id}", "sk": f"REFUSED#{entity}#{field}#{target}", "entity": entity,
                   "field": field, "target": target, "writer": writer, "master": master, "at": _now()})

    def refusals(self, correlation_id: str) -> list[dict[str, Any]]:
        return query_partition(self.ddb, self.table, f"RUN#{correlation_id}", "REFUSED#")

    def record_signal(self, correlation_id: str, signal: str, system: str, detail: dict[str, Any]) -> None:
        self._put({"pk": f"RUN#{correlation_id}", "sk": f"SIGNAL#{signal}#{system}", "kind": signal,
                   "system": system, "detail": detail, "at": _now()})

    # --- contract versions ---------------------------------------------------------------------------
    def applied_version(self, contract_id: str) -> int:
        item = self._get(f"CONTRACT#{contract_id}", "APPLIED")
        return int(item["version"]) if item else 0

    def mark_applied(self, contract_id: str, version: int, correlation_id: str) -> bool:
        """Raise the applied version; False if an equal or newer version was applied meanwhile."""
        try:
            self._put({"pk": f"CONTRACT#{contract_id}", "sk": "APPLIED", "version": version,
                       "correlation_id": correlation_id, "at": _now()},
                      ConditionExpression="attribute_not_exists(version) OR version < :v",
                      ExpressionAttributeValues={":v": {"N": str(version)}})
        except Conflict:
            return False
        return True

    # --- exceptions for operators ----------------------------------------------------------------------
    def open_exception(self, correlation_id: str, workflow: str, kind: str, reason: str,
                       task_token: str | None = None, detail: dict[str, Any] | None = None,
                       seed: str | None = None, version: str | None = None) -> str:
        """seed: what makes this exception one (default: its task token, else correlation id + kind + reason);
        opening the same exception again rewrites it rather than adding a second. version: the contract version
        of the run that opened it (with workflow, it names the run's status record; None outside a run)."""
        exception_id = self.exception_id_for(kind, seed or task_token or f"{correlation_id}:{kind}:{reason}")
        self._put({"pk": f"EXC#{exception_id}", "sk": "EXC", "exception_id": exception_id,
                   "correlation_id": correlation_id, "workflow": workflow, "kind": kind, "reason": reason,
                   "task_token": task_token, "detail": detail, "status": "open", "opened_at": _now(),
                   **({"version": str(version)} if version is not None else {})})
        # a pointer under the run, so the exceptions of one run are a query, not a scan (status lookups)
        self._put({"pk": f"RUN#{correlation_id}", "sk": f"EXC#{exception_id}", "exception_id": exception_id})
        emit_safely("exceptions_opened", kind=kind)  # per kind, not per workflow: the inbox is sorted by kind
        return exception_id

    def open_exceptions_of(self, correlation_id: str) -> list[dict[str, Any]]:
        """The open exceptions of one run (newest last), through the run's pointers."""
        pointers = query_partition(self.ddb, self.table, f"RUN#{correlation_id}", "EXC#")
        found = [e for p in pointers if (e := self._get(f"EXC#{p['exception_id']}", "EXC")) and e["status"] == "open"]
        return sorted(found, key=lambda e: e["opened_at"])

    @staticmethod
    def exception_id_for(kind: str, seed: str) -> str:
        return f"{kind}-{hashlib.sha256(seed.encode()).hexdigest()[:16]}"

    def exception(self, exception_id: str) -> dict[str, Any]:
        item = self._get(f"EXC#{exception_id}", "EXC")
        if item is None:
            raise NotFound(f"no exception {exception_id}", system="hub", record=exception_id)
        return item

    def close_exception(self, exception_id: str, resolution: str) -> None:
        with translated(f"EXC#{exception_id}"):
            self.ddb.update_item(TableName=self.table, Key=to_item({"pk": f"EXC#{exception_id}", "sk": "EXC"}),
                                 UpdateExpression="SET #s = :s, resolution = :r, closed_at = :t",
                                 ConditionExpression="#s = :open", ExpressionAttributeNames={"#s": "status"},
                                 ExpressionAttributeValues=to_item({":s": "closed", ":r": resolution,
                                                                    ":t": _now(), ":open": "open"}))

    def exceptions(self, correlation_id: str | None = None, *, only_open: bool = True) -> list[dict[str, Any]]:
        """Exceptions (newest last); a scan, as operators list them rarely and there are few."""
        kwargs: dict[str, Any] = {"TableName": self.table, "FilterExpression": "sk = :exc",
                                  "ExpressionAttributeValues": {":exc": {"S": "EXC"}}}
        found: list[dict[str, Any]] = []
        with translated("exceptions"):
            for page in self.ddb.get_paginator("scan").paginate(**kwargs):
                found += [from_item(i) for i in page["Items"]]
        found = [e for e in found if (not only_open or e["status"] == "open")
                 and (correlation_id is None or e["correlation_id"] == correlation_id)]
        return sorted(found, key=lambda e: e["opened_at"])
