"""Webhook credentials of each source from Secrets Manager, cached (a rotation shows within max_age)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from erphub.errors import Permanent
from erphub.settings import get_settings
from erphub.sources.base import SourceCredentials


def source_credentials(source: str) -> SourceCredentials:
    settings = get_settings()
    name = f"{settings.source_secret_prefix}{source}"
    value = parameters.get_secret(name, transform="json", max_age=settings.secrets_max_age_seconds)
    try:
        return SourceCredentials.model_validate(value)
    except ValidationError as exc:
        raise Permanent(f"secret {name} is not a valid webhook credential: {exc.errors()[0]['msg']}",
                        system="secretsmanager", record=name) from exc


def clear_cache() -> None:
    parameters.clear_caches()
