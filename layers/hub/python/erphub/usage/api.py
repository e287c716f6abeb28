"""`POST /usage`: the product's batch of usage records, `{"records": [{id, subscription_id, metric, quantity,
recorded_at}, ...]}`, at most MAX_RECORDS. Each record is counted once by its id; the answer lists one outcome per
record, in order (accepted, duplicate, or refused with the reason), so a client retries a whole batch safely."""

from __future__ import annotations

import json
from typing import Any

from erphub.usage.ingest import MAX_RECORDS, count

PRODUCT_SOURCE = "product"


class BadBatch(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def receive(body: str | bytes | None) -> dict[str, Any]:
    try:
        batch = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBatch(400, "the body is not JSON") from exc
    records = batch.get("records") if isinstance(batch, dict) else None
    if not isinstance(records, list) or not records:
        raise BadBatch(400, 'expected {"records": [...]} with at least one record')
    if len(records) > MAX_RECORDS:
        raise BadBatch(413, f"at most {MAX_RECORDS} records per request, got {len(records)}")
    outcomes = count(PRODUCT_SOURCE, records)
    summary = {s: sum(o.status == s for o in outcomes) for s in ("accepted", "duplicate", "refused")}
    return {**summary, "records": [o.model_dump(exclude_none=True) for o in outcomes]}
