"""AWS clients, made lazily (never at import time: keeps cold starts cheap) from one session per configuration.

Endpoint, region and credentials come from the settings (AWS_ENDPOINT_URL is how the local stack points the same
code at its embedded AWS). The clients are kept on the settings object, so they live as long as the
configuration they were made from: once per process on Lambda.

The session is botocore's, not boto3's: a boto3 session adds nothing a client uses here (its extras are the
resource layer and S3's managed transfers) and importing boto3 (s3transfer with it) cost ~40 ms of CPU on every
cold start of every function.
"""

from __future__ import annotations

from typing import Any

from erphub.settings import Settings, get_settings


def client(service: str) -> Any:
    settings = get_settings()
    return settings.resource(("aws.client", service), lambda: _session(settings).create_client(
        service, endpoint_url=settings.aws_endpoint_url or None))


def unvalidated_client(service: str) -> Any:
    """A client without botocore's client-side parameter validation (the service validates every request anyway),
    for a hot path that builds its request itself from typed values: the inbox write of every webhook spent
    ~0.1 ms validating its ~20 attributes, as much as verifying and parsing the webhook."""
    settings = get_settings()

    def make() -> Any:
        from botocore.config import Config

        return _session(settings).create_client(service, endpoint_url=settings.aws_endpoint_url or None,
                                                config=Config(parameter_validation=False))

    return settings.resource(("aws.unvalidated_client", service), make)


def _session(settings: Settings) -> Any:
    def make() -> Any:
        from botocore.session import Session  # imported on first use so that pure modules stay cheap to import

        session = Session()
        region = settings.aws_region or settings.aws_default_region
        if region:
            session.set_config_variable("region", region)
        secret, token = settings.aws_secret_access_key, settings.aws_session_token
        if settings.aws_access_key_id and secret:  # otherwise botocore's own credential chain
            session.set_credentials(settings.aws_access_key_id, secret.get_secret_value(),
                                    token.get_secret_value() if token else None)
        return session

    return settings.resource("aws.session", make)
