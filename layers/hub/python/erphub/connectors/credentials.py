"""Connector configuration and credentials.

Base URLs and secret names come from the environment (`<SYSTEM>_BASE_URL`, `<SYSTEM>_SECRET_NAME`, e.g.
NETSUITE_BASE_URL, NETSUITE_SECRET_NAME); the secret itself (a JSON object) from Secrets Manager through
Powertools parameters, cached for CONNECTOR_SECRETS_MAX_AGE_SECONDS, else SECRETS_MAX_AGE_SECONDS (the stack's
SecretsMaxAgeSeconds), default 300: a rotated secret is used within that time, without a cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from erphub import aws
from erphub.errors import Permanent
from erphub.settings import get_settings


class ConnectorConfig(BaseModel):
    """Where one vendor lives and how patiently we talk to it."""

    system: str
    base_url: str
    secret_name: str = ""
    connect_timeout_seconds: float = Field(default=3.05, gt=0)
    read_timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=5)
    max_retry_wait_seconds: float = Field(default=5.0, ge=0)
    secrets_max_age_seconds: int = Field(default=300, ge=0)

    @classmethod
    def from_environ(cls, system: str, env: Mapping[str, str] | None = None) -> ConnectorConfig:
        env = get_settings().environment if env is None else env
        prefix = system.upper()
        base_url = env.get(f"{prefix}_BASE_URL")
        if not base_url:
            raise Permanent(f"{prefix}_BASE_URL is not configured", system=system)
        raw: dict[str, Any] = {
            "system": system,
            "base_url": base_url,
            "secret_name": env.get(f"{prefix}_SECRET_NAME"),
            "connect_timeout_seconds": env.get("CONNECTOR_CONNECT_TIMEOUT_SECONDS"),
            "read_timeout_seconds": env.get(f"{prefix}_TIMEOUT_SECONDS") or env.get("CONNECTOR_TIMEOUT_SECONDS"),
            "max_attempts": env.get("CONNECTOR_MAX_ATTEMPTS"),
            "max_retry_wait_seconds": env.get("CONNECTOR_MAX_RETRY_WAIT_SECONDS"),
            "secrets_max_age_seconds": (env.get("CONNECTOR_SECRETS_MAX_AGE_SECONDS")
                                        or env.get("SECRETS_MAX_AGE_SECONDS")),
        }
        return cls.model_validate({k: v for k, v in raw.items() if v is not None})

    def client_options(self) -> dict[str, Any]:
        return {
            "connect_timeout": self.connect_timeout_seconds,
            "read_timeout": self.read_timeout_seconds,
            "max_attempts": self.max_attempts,
            "max_retry_wait": self.max_retry_wait_seconds,
        }


def _provider() -> Any:
    """One Powertools SecretsProvider per configuration (its cache lives on the provider)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return get_settings().resource("connectors.secrets", lambda: SecretsProvider(
        boto3_client=aws.client("secretsmanager")))


def load_credentials(config: ConnectorConfig, *, force: bool = False) -> dict[str, Any]:
    """The vendor's secret as a dict; a missing or malformed secret is Permanent (retrying cannot fix it).
    force=True reads it from Secrets Manager even if cached (after the vendor refused the cached one)."""
    if not config.secret_name:
        raise Permanent(f"{config.system.upper()}_SECRET_NAME is not configured", system=config.system)
    try:
        # Powertools reads max_age=0 as "the default", so 0 (no caching) is a forced fetch
        value = _provider().get(config.secret_name, transform="json", max_age=config.secrets_max_age_seconds,
                                force_fetch=force or config.secrets_max_age_seconds == 0)
    except Exception as exc:  # Powertools wraps every failure in GetParameterError / TransformParameterError
        raise Permanent(f"cannot read secret {config.secret_name}: {exc}", system=config.system) from exc
    if not isinstance(value, dict):
        raise Permanent(f"secret {config.secret_name} is not a JSON object", system=config.system)
    return value


def require(credentials: Mapping[str, Any], system: str, *keys: str) -> list[str]:
    missing = [k for k in keys if not credentials.get(k)]
    if missing:
        raise Permanent(f"{system} secret lacks {', '.join(missing)}", system=system)
    return [str(credentials[k]) for k in keys]

