"""Configuration as a pydantic model over the environment: read once, resettable in tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    stage: str = "dev"
    inbox_table: str = ""
    raw_bucket: str = ""
    event_bus_name: str = ""
    source_secret_prefix: str = "erphub/dev/webhooks/"  # noqa: S105 - a name, not a secret
    secrets_max_age_seconds: int = Field(default=300, ge=0)  # a rotated secret is used within this time
    max_body_bytes: int = 1_048_576
    # an item may hold 400 KB; above this the raw body goes to S3 and the item keeps a pointer
    inline_body_limit_bytes: int = 200_000
    inbox_ttl_days: int = Field(default=14, ge=7)
    state_machine_arns: dict[str, str] = Field(default_factory=dict)
    erp_posting_queue_url: str = ""
    # a failed queue message comes back after this, doubling per receive (erphub.consuming)
    queue_retry_delay_seconds: int = Field(default=15, ge=0)

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw: dict[str, object] = {
            "stage": env.get("STAGE"),
            "inbox_table": env.get("INBOX_TABLE"),
            "raw_bucket": env.get("RAW_BUCKET"),
            "event_bus_name": env.get("EVENT_BUS_NAME"),
            "source_secret_prefix": env.get("SOURCE_SECRET_PREFIX"),
            "secrets_max_age_seconds": env.get("SECRETS_MAX_AGE_SECONDS"),
            "max_body_bytes": env.get("MAX_BODY_BYTES"),
            "inline_body_limit_bytes": env.get("INLINE_BODY_LIMIT_BYTES"),
            "inbox_ttl_days": env.get("INBOX_TTL_DAYS"),
            "erp_posting_queue_url": env.get("ERP_POSTING_QUEUE_URL"),
            "queue_retry_delay_seconds": env.get("RETRY_DELAY_SECONDS"),
            "state_machine_arns": _state_machine_arns(env),
        }
        return cls.model_validate({k: v for k, v in raw.items() if v is not None})


def _state_machine_arns(env: Mapping[str, str]) -> dict[str, str]:
    """STATE_MACHINE_<FAMILY>=arn variables, e.g. STATE_MACHINE_ACTIVATION."""
    prefix = "STATE_MACHINE_"
    return {k[len(prefix):].lower(): v for k, v in env.items() if k.startswith(prefix) and v}


_KEYS = (
    "STAGE", "INBOX_TABLE", "RAW_BUCKET", "EVENT_BUS_NAME", "SOURCE_SECRET_PREFIX", "SECRETS_MAX_AGE_SECONDS",
    "MAX_BODY_BYTES", "INLINE_BODY_LIMIT_BYTES", "INBOX_TTL_DAYS", "ERP_POSTING_QUEUE_URL",
    "RETRY_DELAY_SECONDS",
)


def get_settings() -> Settings:
    """Read once per distinct environment: in Lambda that is once; the local stack runs several functions,
    each with its own environment, in one process, and each gets its own settings."""
    snapshot = tuple((k, v) for k, v in sorted(os.environ.items()) if k in _KEYS or k.startswith("STATE_MACHINE_"))
    return _settings_for(snapshot)


@lru_cache(maxsize=32)
def _settings_for(snapshot: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.from_environ(dict(snapshot))
