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
    """All events of one request. The JSON answer is the first event's receipt, plus `events` for a batch."""

    receipts: list[Receipt]
    ack_content_type: str | None = Field(default=None, exclude=True)
    ack_body: str | None = Field(default=None, exclude=True)

    def body(self) -> dict[str, object]:
        first = self.receipts[0].model_dump()
        if len(self.receipts) > 1:
            first["events"] = [r.model_dump() for r in self.receipts]
        return first
