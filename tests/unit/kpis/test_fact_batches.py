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
