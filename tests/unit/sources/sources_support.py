"""Requests as a source receives them, signed by local/sandbox/signing.py or by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from erphub.sources.inbound import Headers, InboundRequest, SourceCredentials

EVENTS = Path(__file__).resolve().parents[3] / "events"
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def sample(relative: str) -> bytes:
    return (EVENTS / relative).read_bytes()


def inbound(body: bytes, headers: dict[str, str], url: str = "https://hub.example/webhooks/x",
            method: str = "POST", received_at: datetime = NOW) -> InboundRequest:
    return InboundRequest(method=method, url=url, headers=Headers(headers), body=body, received_at=received_at)


def creds(**values: object) -> SourceCredentials:
    return SourceCredentials.from_secret(values)


