"""A run's status record changes at every step; its KPI track is opened by the record that first shows it open and
closed by the one that ends it, not rewritten at every step in between (each would be a DynamoDB write)."""

from __future__ import annotations

from typing import Any

from erphub.kpis import projection
from erphub.store.tables import to_item


class RecordingStore:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def open(self, gauge: str, item_id: str, at: str, **_: Any) -> None:
        self.calls.append(("open", gauge, item_id))

    def close(self, gauge: str, item_id: str, at: str, **_: Any) -> dict[str, Any]:
        self.calls.append(("close", gauge, item_id))
        return {"opened_at": "2026-12-01T10:00:00+00:00", "closed_at": at}

    def fact(self, name: str, at: str, item_id: str, **_: Any) -> None:
        self.calls.append(("fact", name, item_id))


def status(value: str, step: str, minute: int) -> dict[str, Any]:
    return {"pk": "RUN#c-1", "sk": "STATUS#activation#1", "workflow": "activation", "status": value, "step": step,
            "started_at": "2026-12-01T10:00:00+00:00", "updated_at": f"2026-12-01T10:{minute:02d}:00+00:00"}


def stream(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    images = {"NewImage": to_item(new), **({"OldImage": to_item(old)} if old else {})}
    return {"eventName": "MODIFY" if old else "INSERT", "dynamodb": images}


def project(*records: dict[str, Any]) -> list[tuple[str, str, str]]:
    store = RecordingStore()
    for record in records:
        projection.apply(record, store)  # type: ignore[arg-type]
    return store.calls


RUN_ID = "c-1:STATUS#activation#1"


def test_a_run_is_opened_once_and_closed_once_whatever_its_steps():
    running, billing, waiting = status("running", "screen", 0), status("running", "billing", 1), status(
        "waiting", "erp", 2)
    done = status("completed", "outcome", 3)
    calls = project(stream(running, None), stream(billing, running), stream(waiting, billing), stream(done, waiting))
    assert calls == [("open", "run", RUN_ID), ("close", "run", RUN_ID), ("fact", "run_ended", RUN_ID)]


def test_a_run_seen_first_in_mid_flight_is_opened_and_a_resumed_run_is_opened_again():
    # the first record this projector sees of a run may be a modification (e.g. the table predates the projector)
    assert project(stream(status("running", "billing", 1), {"pk": "RUN#c-1", "sk": "STATUS#activation#1"})) == [
        ("open", "run", RUN_ID)]
    # a failed run resumed by an operator: the record after the end opens it (the store keeps a closed track closed)
    resumed = project(stream(status("running", "erp", 9), status("failed", "erp", 8)))
    assert resumed == [("open", "run", RUN_ID)]
