"""Webhook credentials of each source from Secrets Manager, cached (a rotation shows within max_age).

A small cache of its own rather than Powertools' SecretsProvider: importing `parameters` brings AppConfig,
SSM and DynamoDB providers and costs ~30 ms of every cold start, for one GetSecretValue and a timestamp.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

from erphub import aws
from erphub.errors import Permanent, Transient
from erphub.settings import get_settings
from erphub.sources.inbound import SourceCredentials


def source_credentials(source: str) -> SourceCredentials:
    settings = get_settings()
    name = f"{settings.source_secret_prefix}{source}"
    return _cache().get(name, settings.secrets_max_age_seconds)


class _SecretsCache:
    """Parsed credentials per secret name with the time they were read; max_age 0 reads every time."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, SourceCredentials]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, max_age: int) -> SourceCredentials:
        entry = self._entries.get(name)
        if entry is not None and time.monotonic() - entry[0] < max_age:
            return entry[1]
        credentials = _read(name)
        with self._lock:
            self._entries[name] = (time.monotonic(), credentials)
        return credentials


def _read(name: str) -> SourceCredentials:
    try:
        value: Any = aws.client("secretsmanager").get_secret_value(SecretId=name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "AccessDeniedException", "InvalidRequestException"):
            raise Permanent(f"secret {name} cannot be read: {code}", system="secretsmanager", record=name) from exc
        raise Transient(f"secret {name}: {code or exc}", system="secretsmanager", record=name) from exc
    try:
        secret = json.loads(value.get("SecretString") or "null")
    except ValueError as exc:
        raise _not_a_credential(name, "not JSON") from exc
    try:
        return SourceCredentials.from_secret(secret)
    except ValueError as exc:
        raise _not_a_credential(name, str(exc)) from exc


def _not_a_credential(name: str, reason: str) -> Permanent:
    return Permanent(f"secret {name} is not a valid webhook credential: {reason}", system="secretsmanager",
                     record=name)


def _cache() -> _SecretsCache:
    # one cache per configuration: a test's or a hosted function's settings never see another's secrets
    return get_settings().resource("ingest.secrets", _SecretsCache)
