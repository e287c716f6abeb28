"""The operator API's library: the exceptions inbox, operator actions, the audit trail, roles, and the
Powertools routers the ops_api function mounts (routes/); and what an operator does to recover and to look
back: plain functions with typed inputs and outputs that the operator API exposes (and audits: every acting
function takes the acting operator's name and returns what it did).

- quarantine: list quarantined webhooks, repair (re-normalize or corrected canonical fields) and replay once
- dlqs: every DLQ with depth, oldest age and why each message failed; redrive one or all; purge (confirmed)
- archive: replay a time window of one event type from the bus archive; sweep the outbox now
- timeline: the run history of one deal, contract or customer

Configuration comes from the function's environment, as the template gives it (docs/recovery.md lists what each
needs): INBOX_TABLE, RAW_BUCKET, EVENT_BUS_NAME, WORKFLOW_TABLE, IDENTITY_TABLE, STATE_MACHINE_<WORKFLOW>,
DEAD_LETTER_QUEUES (comma-separated DLQ URLs) and EVENT_ARCHIVE_NAME.
"""

from __future__ import annotations

from erphub.errors import Permanent, ValidationFailed
from erphub.settings import get_settings

_MAX_ACTOR_CHARS = 256


def actor_name(actor: str) -> str:
    """The acting operator, required on every action (the audit trail names who did it)."""
    actor = (actor or "").strip()
    if not actor or len(actor) > _MAX_ACTOR_CHARS:
        raise ValidationFailed("an action needs the acting operator's name", system="hub")
    return actor


def configured(variable: str) -> str:
    """A required setting of the operator function's environment."""
    value = get_settings().environment.get(variable, "").strip()
    if not value:
        raise Permanent(f"{variable} is not configured", system="hub")
    return value
