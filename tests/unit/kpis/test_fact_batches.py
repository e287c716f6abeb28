"""The projector keeps a stream batch's facts and writes them 25 to a BatchWriteItem, each key once."""

from __future__ import annotations

from typing import Any

from erphub.kpis.store import KpiStore


class CountingClient:
    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.puts = 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.batches.append([r["PutRequest"]["Item"] for r in RequestItems["kpis"]])
        return {"UnprocessedItems": {}}

    def put_item(self, **_: Any) -> None:
        self.puts += 1


def test_a_batched_store_writes_its_facts_at_flush_25_at_a_time_each_key_once():
    client = CountingClient()
    store = KpiStore(table="kpis", client=client, batched=True)
    for n in range(30):
        store.fact("webhook", "2026-12-01T10:00:00+00:00", f"stripe#evt_{n}", source="stripe", outcome="accepted")
    store.fact("webhook", "2026-12-01T10:00:00+00:00", "stripe#evt_0", source="stripe", outcome="duplicate")
    assert client.batches == [] and client.puts == 0  # nothing written before the flush
    store.flush()
    assert [len(b) for b in client.batches] == [25, 5] and client.puts == 0
    first = next(i for b in client.batches for i in b if i["sk"]["S"].endswith("#stripe#evt_0"))
    assert first["outcome"] == {"S": "duplicate"}  # the later fact of a key, as two puts would leave it
    store.flush()
    assert len(client.batches) == 2  # flushed facts are not written again


def test_an_unbatched_store_writes_each_fact_at_once_flushed_or_not():
    client = CountingClient()
    store = KpiStore(table="kpis", client=client)
    store.fact("webhook", "2026-12-01T10:00:00+00:00", "stripe#evt_1", source="s")
    store.flush()
    store.fact("webhook", "2026-12-01T10:00:00+00:00", "stripe#evt_2", source="s")
    assert client.puts == 2 and client.batches == []


def test_the_projector_writes_the_facts_of_a_batch_whose_records_failed(monkeypatch):
    """A failed record's tracks are already written, so its retry finds nothing new and emits no fact again: the
    facts it emitted before failing are written even though the invocation fails (as an unbatched store wrote them)."""
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    import pytest

    path = Path(__file__).resolve().parents[3] / "functions" / "kpi_projector" / "app.py"
    spec = importlib.util.spec_from_file_location("app_kpi_projector", path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    client = CountingClient()
    monkeypatch.setattr(app, "KpiStore", lambda batched=False: KpiStore(table="kpis", client=client, batched=batched))

    def apply(record: dict[str, Any], store: KpiStore) -> None:
        store.fact("exception_opened", "2026-12-01T10:00:00+00:00", record["dynamodb"]["SequenceNumber"])
        raise RuntimeError("a conflict after the track was written")

    monkeypatch.setattr(app.projection, "apply", apply)
    event = {"Records": [{"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                          "dynamodb": {"SequenceNumber": "7", "Keys": {"pk": {"S": "x"}}}}]}
    context = SimpleNamespace(function_name="f", memory_limit_in_mb=128, invoked_function_arn="arn:aws:lambda:f",
                              aws_request_id="r1", get_remaining_time_in_millis=lambda: 60_000)
    with pytest.raises(Exception, match="All records failed"):  # every record failed: the whole batch is retried
        app.lambda_handler(event, context)
    assert [[i["sk"]["S"] for i in b] for b in client.batches] == [["2026-12-01T10:00:00+00:00#7"]]
