"""The ids derived from vendor and business keys: an event's id and a piece of work's correlation id.

Outside `erphub.canonical` on purpose: importing anything under that package runs its `__init__`, which builds
the pydantic models, and the webhook ack path needs these ids without them.
"""

from __future__ import annotations

import functools
import re
import uuid

_EVENT_NAMESPACE = uuid.UUID("6f1c1d4e-2b7a-4f0e-9a53-7e2f0c6b9d11")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


@functools.lru_cache(maxsize=256)  # ingest asks twice per event (the inbox item, then the envelope)
def event_id_for(source: str, source_event_id: str) -> str:
    """Deterministic, so a redelivered webhook and its stored event always share one id."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{source}:{source_event_id}"))


def correlation_id_for(entity: str, system: str, key: str) -> str:
    """e.g. ("contract", "salesforce", "0065g00000XyZ") -> "contract:salesforce:0065g00000XyZ"."""
    return _UNSAFE.sub("-", f"{entity}:{system}:{key}")
