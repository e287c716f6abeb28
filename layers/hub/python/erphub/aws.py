"""boto3 clients, made lazily (never at import time: keeps cold starts cheap) from one session per configuration.

Endpoint, region and credentials come from the settings (AWS_ENDPOINT_URL is how the local stack points the same
code at its embedded AWS). The clients are kept on the settings object, so they live as long as the
configuration they were made from: once per process on Lambda.
"""

from __future__ import annotations

from typing import Any

from erphub.settings import Settings, get_settings


def client(service: str) -> Any:
    settings = get_settings()
    return settings.resource(("aws.client", service), lambda: _session(settings).client(
        service, endpoint_url=settings.aws_endpoint_url or None))


def unvalidated_client(service: str) -> Any:
    """A client without botocore's client-side parameter validation (the service validates every request anyway),
    for a hot path that builds its request itself from typed values: the inbox write of every webhook spent
    ~0.1 ms validating its ~20 attributes, as much as verifying and parsing the webhook."""
    settings = get_settings()

    def make() -> Any:
        from botocore.config import Config

        return _session(settings).client(service, endpoint_url=settings.aws_endpoint_url or None,
                                         config=Config(parameter_validation=False))

    return settings.resource(("aws.unvalidated_client", service), make)


def _session(settings: Settings) -> Any:
    def make() -> Any:
        import boto3  # imported on first use so that pure modules stay cheap to import

        region = settings.aws_region or settings.aws_default_region
        secret, token = settings.aws_secret_access_key, settings.aws_session_token
        if not (settings.aws_access_key_id and secret):
            return boto3.session.Session(region_name=region)  # boto3's own credential chain
        return boto3.session.Session(
            aws_access_key_id=settings.aws_access_key_id, aws_secret_access_key=secret.get_secret_value(),
            aws_session_token=token.get_secret_value() if token else None, region_name=region)

    return settings.resource("aws.session", make)
