"""Webhook credentials of each source from Secrets Manager, cached (a rotation shows within max_age)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import ValidationError

from erphub import aws
from erphub.errors import Permanent
from erphub.settings import get_settings
from erphub.sources.inbound import SourceCredentials


def source_credentials(source: str) -> SourceCredentials:
    settings = get_settings()
    name = f"{settings.source_secret_prefix}{source}"
    max_age = settings.secrets_max_age_seconds
    # Powertools reads max_age=0 as "its default", so 0 (no caching) is a forced fetch
    value = _provider().get(name, transform="json", max_age=max_age, force_fetch=max_age == 0)
    try:
        return SourceCredentials.model_validate(value)
    except ValidationError as exc:
        raise Permanent(f"secret {name} is not a valid webhook credential: {exc.errors()[0]['msg']}",
                        system="secretsmanager", record=name) from exc


def _provider() -> SecretsProvider:
    # one provider (and value cache) per configuration
    return get_settings().resource("ingest.secrets", lambda: SecretsProvider(boto3_client=aws.client("secretsmanager")))
