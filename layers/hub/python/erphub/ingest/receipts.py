"""What a webhook delivery gets back (the response contract of POST /webhooks/{source}).

Plain dataclasses, not pydantic models: every value comes from our own inbox item (nothing to validate), and
building and dumping two models cost every webhook more than the rest of its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# accepted: stored now, mapped and published after the answer (quarantined or ignored then: the inbox item says
# which); duplicate: stored before
Status = Literal["accepted", "duplicate"]
STATUSES = frozenset(get_args(Status))


@dataclass(frozen=True, slots=True)
class Receipt:
    event_id: str
    status: str  # one of STATUSES
    correlation_id: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"a receipt's status is one of {sorted(STATUSES)}, not {self.status!r}")

    def as_dict(self) -> dict[str, str]:
        return {"event_id": self.event_id, "status": self.status, "correlation_id": self.correlation_id}


@dataclass(frozen=True, slots=True)
class Delivery:
    """All events of one request. The JSON answer is the headline receipt (the first accepted event, else the
    first), plus `events` with every receipt for a batched delivery."""

    receipts: list[Receipt]
    ack_content_type: str | None = None  # a vendor's own success answer (Salesforce's SOAP Ack), not in the JSON
    ack_body: str | None = None

    def body(self) -> dict[str, object]:
        headline: dict[str, object] = dict(
            next((r for r in self.receipts if r.status == "accepted"), self.receipts[0]).as_dict())
        if len(self.receipts) > 1:
            headline["events"] = [r.as_dict() for r in self.receipts]
        return headline
