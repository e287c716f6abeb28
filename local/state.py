"""State that survives a restart of the local stack: `erphub up --state DIR` (without it, state is in memory).

Kept: every item of every DynamoDB table of the template (the inbox, the workflow and identity tables, ...),
every object of its S3 buckets (claim-checked raw bodies), and the vendor sandbox's records, id counters and
idempotency caches. Saved as one JSON file, written atomically: after the stack starts, within ~2 s of a
change made through this process (handlers, pollers, Step Functions tasks) and every 10 s in any case
(changes made from outside, e.g. the aws CLI on the endpoint), but never spending more than a fifth of the
time saving (a big inbox is saved less often); and at a clean stop (Ctrl-C).

Not kept, because moto cannot take them back: Step Functions executions (running ones stop with the
process; finished ones lose their history, so their names can be started again), SQS messages (what sat in
a queue is gone; accepted inbox items not yet published are published again from the restored inbox), and
EventBridge archives. The restart says which of these it lost, and after a crash (no clean stop) how old
the restored snapshot is.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local import activity

FORMAT = 1
SNAPSHOT = "state.json"
OWNER = "owner.pid"  # present while a stack uses the directory; left behind by a crash
CHANGED_INTERVAL = 2.0  # seconds between snapshots while this process changes tables
SAVE_SHARE = 0.2  # at most this share of the time goes into saving: a big inbox is snapshotted less often
FULL_INTERVAL = 10.0  # seconds between snapshots in any case
TABLE_TYPES = ("AWS::DynamoDB::Table",)  # of the transformed template: a SimpleTable is one by then
MACHINE_TYPES = ("AWS::StepFunctions::StateMachine",)


class StateInUse(PermissionError):
    """Another running stack keeps its state in this directory (a PermissionError: the CLI reports it in one
    line, as it does a directory it may not write)."""


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$base64"}:
            return base64.b64decode(value["$base64"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class StateDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self.snapshot = self.path / SNAPSHOT
        self.owner = self.path / OWNER

    def claim(self) -> float | None:
        """Take the directory; returns when the previous owner was last seen if it crashed, else None."""
        self.path.mkdir(parents=True, exist_ok=True)
        crashed_at = None
        while True:
            try:  # O_EXCL: of two stacks starting at once on the same directory, one gets it
                descriptor = os.open(self.owner, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                text = self.owner.read_text().strip()
                if not text and time.time() - self.owner.stat().st_mtime < 5:
                    raise StateInUse(f"{self.path} is being claimed by another stack starting now") from None
                pid = int(text or 0)
                if pid and _alive(pid):
                    raise StateInUse(f"{self.path} is the state of the running stack with pid {pid}") from None
                crashed_at = self.owner.stat().st_mtime
                self.owner.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as out:
                out.write(str(os.getpid()))
            return crashed_at

    def touch(self) -> None:
        self.owner.touch()  # "last seen alive", for the report after a crash

    def release(self) -> None:
        if self.owner.exists() and self.owner.read_text().strip() == str(os.getpid()):
            self.owner.unlink()

    def read(self) -> dict[str, Any] | None:
        if not self.snapshot.exists():
            return None
        return _decode(json.loads(self.snapshot.read_text(encoding="utf-8")))

    def write(self, state: dict[str, Any]) -> None:
        partial = self.snapshot.with_suffix(".tmp")
        with partial.open("w", encoding="utf-8") as out:
            json.dump(_encode(state), out)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(self.snapshot)  # atomic: a crash leaves the previous snapshot or this one, whole


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _of_type(stack: Any, types: tuple[str, ...]) -> list[str]:
    return [lid for lid, r in stack.template.resources.items() if r.get("Type") in types
            and lid in stack.template.physical]


def capture(stack: Any, clean: bool) -> dict[str, Any]:
    """Everything kept, plus what will not be restored (running executions, queued messages) for the report."""
    ddb, s3 = stack.client("dynamodb"), stack.client("s3")
    tables = {lid: [item for page in ddb.get_paginator("scan").paginate(TableName=stack.physical(lid))
                    for item in page["Items"]] for lid in _of_type(stack, TABLE_TYPES)}
    buckets = {}
    for lid in _of_type(stack, ("AWS::S3::Bucket",)):
        bucket = stack.physical(lid)
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]
        buckets[lid] = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}
    sandbox = getattr(stack, "sandbox", None)
    vendors = {name: v.state() for name, v in sandbox.vendors.items()} if sandbox is not None else {}
    return {"format": FORMAT, "saved_at": time.time(), "clean": clean, "tables": tables, "buckets": buckets,
            "sandbox": vendors, "running_executions": _running_executions(stack), "queued": _queued(stack)}


def _running_executions(stack: Any) -> list[str]:
    sfn = stack.client("stepfunctions")
    running = []
    for lid in _of_type(stack, MACHINE_TYPES):
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.physical(lid),
                                                             statusFilter="RUNNING")
        running += [f"{lid}/{e['name']}" for page in pages for e in page["executions"]]
    return running


def _queued(stack: Any) -> dict[str, int]:
    queued = {}
    for lid in _of_type(stack, ("AWS::SQS::Queue",)):
        depth = stack.queue_depth(lid)
        if depth:
            queued[lid] = depth
    return queued


def restore(stack: Any, state: dict[str, Any]) -> list[str]:
    """Put the kept state back into a freshly provisioned stack; returns what it restored and what it could not."""
    lines, ddb, s3 = [], stack.client("dynamodb"), stack.client("s3")
    present = set(_of_type(stack, TABLE_TYPES))
    for lid, items in state.get("tables", {}).items():
        if lid not in present:
            lines.append(f"not restored: {len(items)} items of table {lid}, which the template no longer has")
            continue
        for start in range(0, len(items), 25):  # BatchWriteItem's limit
            _write_all(ddb, stack.physical(lid), items[start:start + 25])
    present = set(_of_type(stack, ("AWS::S3::Bucket",)))
    for lid, objects in state.get("buckets", {}).items():
        for key, body in objects.items() if lid in present else ():
            s3.put_object(Bucket=stack.physical(lid), Key=key, Body=body)
    sandbox = getattr(stack, "sandbox", None)
    for name, vendor_state in state.get("sandbox", {}).items():
        if sandbox is not None and name in sandbox.vendors:
            sandbox.vendors[name].load_state(vendor_state)
    items = sum(len(v) for v in state.get("tables", {}).values())
    records = sum(len(t) for v in state.get("sandbox", {}).values() for t in v.get("records", {}).values())
    objects = sum(len(v) for v in state.get("buckets", {}).values())
    return [f"restored: {items} table items, {objects} S3 objects, {records} sandbox records", *lines]


def _write_all(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    requests = {table: [{"PutRequest": {"Item": item}} for item in items]}
    while requests:
        requests = ddb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}


def lost(state: dict[str, Any], crashed_at: float | None) -> list[str]:
    """What the previous run had that this one does not: the report after a restart."""
    saved = float(state.get("saved_at", 0))
    lines = []
    if crashed_at is not None or not state.get("clean"):
        seen = f", last seen alive {_when(crashed_at)}" if crashed_at else ""
        lines.append(f"the last run did not stop cleanly (crash or kill){seen}: restored its snapshot of "
                     f"{_when(saved)}; changes made after it are lost")
    else:
        lines.append(f"the last run stopped cleanly at {_when(saved)}")
    running = state.get("running_executions", [])
    if running:
        lines.append(f"not restored: {len(running)} running Step Functions executions (moto cannot resume one; "
                     f"their workflows must be started again): {', '.join(running[:10])}"
                     + (" ..." if len(running) > 10 else ""))
    queued = state.get("queued", {})
    if queued:
        lines.append("not restored: queued SQS messages " + ", ".join(f"{q}: {n}" for q, n in sorted(queued.items()))
                     + " (accepted inbox items not yet published are published again)")
    lines.append("not kept: execution history (names of finished executions can be started again), "
                 "EventBridge archives")
    return lines


class Keeper:
    """Saves the state now and then while the stack runs, and once more, marked clean, when it stops."""

    def __init__(self, stack: Any, directory: StateDir) -> None:
        self.stack, self.dir = stack, directory
        self.stopping = threading.Event()
        self.keys = frozenset(activity.table_key(stack.physical(lid)) for lid in _of_type(stack, TABLE_TYPES))
        self.saved_generations: tuple[int, ...] = ()
        self.saved_at = 0.0
        self.save_seconds = 0.0
        self.summary = ""
        self.thread = threading.Thread(target=self._run, name="state keeper", daemon=True)

    def start(self) -> None:
        self.save(clean=False)
        self.thread.start()

    def save(self, clean: bool) -> None:
        started = time.monotonic()
        generations = activity.snapshot(self.keys)
        state = capture(self.stack, clean)
        self.dir.write(state)
        self.saved_generations, self.saved_at = generations, time.monotonic()
        self.save_seconds = self.saved_at - started
        items = sum(len(v) for v in state["tables"].values())
        self.summary = f"{items} table items and the sandbox's records saved to {self.dir.path}"

    def _run(self) -> None:
        while not self.stopping.wait(CHANGED_INTERVAL):
            self.dir.touch()
            since = time.monotonic() - self.saved_at
            changed = activity.snapshot(self.keys) != self.saved_generations
            if since * SAVE_SHARE < self.save_seconds:
                continue
            if changed or since >= FULL_INTERVAL:
                try:
                    self.save(clean=False)
                except Exception as exc:  # the stack stopping under us; the final save reports for real
                    if not self.stopping.is_set():
                        print(f"[local] state snapshot failed: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        try:
            self.save(clean=True)
        except Exception as exc:  # the directory stays claimed: the next start reports an unclean stop
            self.summary = f"state NOT saved at stop ({type(exc).__name__}: {exc}); the last snapshot stands"
            raise
        self.dir.release()
