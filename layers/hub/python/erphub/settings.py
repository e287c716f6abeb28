"""Everything a function reads from its environment, as one pydantic-settings model, parsed once per process.

On Lambda the environment is the process's: `get_settings()` parses it on first use and hands out the same
object afterwards (no re-reading per request). Whatever is built from the configuration (boto3 clients, secrets
caches, connectors) is kept on that object (`resource`), so it lives exactly as long as the configuration it was
built from and no cache needs a key made of environment variables.

A runner that hosts several functions in one process (the local stack) gives each invocation its function's
settings with `invocation_settings(...)`; tests replace the process's settings with `use_settings(...)`.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

T = TypeVar("T")
_STATE_MACHINE = "STATE_MACHINE_"  # STATE_MACHINE_<FAMILY>=arn, e.g. STATE_MACHINE_ACTIVATION


class Settings(BaseSettings):
    """Field names are the variables' names (case-insensitive): INBOX_TABLE -> inbox_table."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    stage: str = "dev"
    inbox_table: str = ""
    raw_bucket: str = ""
    event_bus_name: str = ""
    identity_table: str = ""
    workflow_table: str = ""
    erp_posting_queue_url: str = ""
    source_secret_prefix: str = "erphub/dev/webhooks/"  # noqa: S105 - a name, not a secret
    secrets_max_age_seconds: int = Field(default=300, ge=0)  # a rotated secret is used within this time
    max_body_bytes: int = 1_048_576
    # an item may hold 400 KB; above this the raw body goes to S3 and the item keeps a pointer
    inline_body_limit_bytes: int = 200_000
    inbox_ttl_days: int = Field(default=14, ge=7)
    # a failed queue message comes back after this, doubling per receive (erphub.consuming)
    retry_delay_seconds: int = Field(default=15, ge=0)
    state_machine_arns: dict[str, str] = Field(default_factory=dict)
    # which vendor plays each kind of system (erphub.workflows.systems), and the adapter functions to invoke
    crm_vendor: str = ""
    billing_vendor: str = ""
    success_vendor: str = ""
    erp_vendor: str = ""
    crm_adapter_function: str = ""
    billing_adapter_function: str = ""
    success_adapter_function: str = ""
    erp_adapter_function: str = ""
    # the business rules (catalog, currencies, approval policy) are not environment: erphub.business_config reads
    # them at run time from the SSM parameter named here
    business_config_parameter: str = ""
    # usage aggregation (erphub.usage): its table and how late a record may still count after its period ends
    usage_table: str = ""
    usage_late_cutoff_hours: int = Field(default=72, ge=0)
    # the sync API's tax calculation: the billing vendor's ("billing") or the ERP's tax codes ("erp")
    tax_engine: str = "billing"
    # operators: the topic notifications go to (erphub.operations.notify)
    ops_topic_arn: str = ""
    # scheduled reconciliation (erphub.reconciliation): the function that continues a run, contracts per invocation
    reconciler_function: str = ""
    # the KPI projection's table (erphub.kpis)
    kpi_table: str = ""
    reconcile_budget: int = Field(default=200, ge=1)
    # where and as whom AWS is reached (erphub.aws); on Lambda the runtime sets these, locally the local stack
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    aws_default_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    # the whole environment as given: connectors read their <SYSTEM>_* family from it (erphub.connectors);
    # never printed (it holds the credentials)
    environment: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)

    _resources: dict[Any, Any] = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.RLock)  # re-entered: a client is made from the session

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Lambda configures a function by its environment only: no .env files, no secrets directories
        return init_settings, _EnvironmentVariables(settings_cls), _EnvironmentFamilies(settings_cls)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """The settings of an environment other than this process's (a function hosted by the local stack)."""
        token = _reading.set(env)
        try:
            return cls()
        finally:
            _reading.reset(token)

    def resource(self, key: Any, make: Callable[[], T]) -> T:
        """What is built from this configuration, built once (`make`) and kept as long as the configuration."""
        resources = self._resources
        if key in resources:
            return resources[key]
        with self._lock:
            if key not in resources:
                resources[key] = make()
            return resources[key]


# the environment being parsed: os.environ, or the mapping `Settings.from_env` was given
_reading: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("settings_env", default=None)


class _EnvironmentFamilies(PydanticBaseSettingsSource):
    """The variables that come as families rather than one per field: STATE_MACHINE_<FAMILY>, and the whole
    environment (for the connectors' <SYSTEM>_BASE_URL, _SECRET_NAME, _TIMEOUT_SECONDS)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ answers for the whole model

    def __call__(self) -> dict[str, Any]:
        env = dict(_environment())
        arns = {k[len(_STATE_MACHINE):].lower(): v for k, v in env.items() if k.startswith(_STATE_MACHINE) and v}
        return {"state_machine_arns": arns, "environment": env}


def _environment() -> Mapping[str, str]:
    env = _reading.get()
    return os.environ if env is None else env


class _EnvironmentVariables(EnvSettingsSource):
    """pydantic-settings' own environment source, reading the environment being parsed (`_environment`)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(_environment(), self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


_process: Settings | None = None
_process_lock = threading.Lock()
# set by a runner around one invocation of a function it hosts (several functions share the process)
_invocation: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("invocation_settings", default=None)


def get_settings() -> Settings:
    """This function's settings: the invocation's when a runner gave some, else the process's, parsed once."""
    settings = _invocation.get()
    if settings is not None:
        return settings
    if _process is None:
        return _parse_process_settings()
    return _process


def _parse_process_settings() -> Settings:
    global _process
    with _process_lock:
        if _process is None:
            _process = Settings()
        return _process


@contextlib.contextmanager
def invocation_settings(settings: Settings) -> Iterator[Settings]:
    """Around one invocation (on the invoking thread): `get_settings()` answers `settings`."""
    token = _invocation.set(settings)
    try:
        yield settings
    finally:
        _invocation.reset(token)


@contextlib.contextmanager
def use_settings(settings: Settings | None = None) -> Iterator[Settings]:
    """Tests: the process's settings are `settings` (every thread sees them), then what they were before."""
    global _process
    with _process_lock:
        previous, _process = _process, settings or Settings()
    try:
        yield _process
    finally:
        with _process_lock:
            _process = previous
