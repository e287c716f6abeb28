"""What a webhook delivery gets back (the response contract of POST /webhooks/{source})."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["accepted", "duplicate", "ignored", "quarantined"]


class Receipt(BaseModel):
    event_id: str
    status: Status
    correlation_id: str


class Delivery(BaseModel):
    """All events of one request. The JSON answer is the headline receipt (the first accepted event, else the
    first quarantined, else the first), plus `events` with every receipt for a batched delivery."""

    receipts: list[Receipt]
    ack_content_type: str | None = Field(default=None, exclude=True)
    ack_body: str | None = Field(default=None, exclude=True)

    def body(self) -> dict[str, object]:
        rank = {"accepted": 0, "quarantined": 1}
        headline = min(self.receipts, key=lambda r: rank.get(r.status, 2)).model_dump()
        if len(self.receipts) > 1:
            headline["events"] = [r.model_dump() for r in self.receipts]
        return headline
