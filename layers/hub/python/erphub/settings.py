"""Everything a function reads from its environment, as one pydantic model, parsed once per process.

On Lambda the environment is the process's: `get_settings()` parses it on first use and hands out the same
object afterwards (no re-reading per request). Whatever is built from the configuration (boto3 clients, secrets
caches, connectors) is kept on that object (`resource`), so it lives exactly as long as the configuration it was
built from and no cache needs a key made of environment variables.

A runner that hosts several functions in one process (the local stack) gives each invocation its function's
settings with `invocation_settings(...)`; tests replace the process's settings with `use_settings(...)`.

A plain pydantic model rather than pydantic-settings' BaseSettings: Lambda configures a function by its
environment only, so every source pydantic-settings offers beyond it (.env files, secrets directories, CLI) was
switched off, and what was left is a name-to-field mapping of a few lines (`from_env`). Importing
pydantic-settings cost ~45 ms of every cold start (it imports asyncio, argparse and dotenv): the webhook function's
cold start went from 1.48x to 1.38x the minimal reference handler's (bench/ingest.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

T = TypeVar("T")
_STATE_MACHINE = "STATE_MACHINE_"  # STATE_MACHINE_<FAMILY>=arn, e.g. STATE_MACHINE_ACTIVATION
_FAMILIES = ("state_machine_arns", "environment")  # collected from many variables, never one variable's value


class Settings(BaseModel):
    """Field names are the variables' names (case-insensitive): INBOX_TABLE -> inbox_table."""

    model_config = ConfigDict(extra="ignore")

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
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of an environment: this process's (None), or a function's hosted by the local stack.
        A variable sets the field of its name, whatever its case; a bad value is a ValidationError naming it."""
        env = os.environ if env is None else env
        fields = cls.model_fields.keys() - set(_FAMILIES)
        given: dict[str, Any] = {name.lower(): value for name, value in env.items() if name.lower() in fields}
        arns = {k[len(_STATE_MACHINE):].lower(): v for k, v in env.items() if k.startswith(_STATE_MACHINE) and v}
        return cls.model_validate({**given, "state_machine_arns": arns, "environment": dict(env)})

    def resource(self, key: Any, make: Callable[[], T]) -> T:
        """What is built from this configuration, built once (`make`) and kept as long as the configuration."""
        resources = self._resources
        if key in resources:
            return resources[key]
        with self._lock:
            if key not in resources:
                resources[key] = make()
            return resources[key]


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
            _process = Settings.from_env()
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
        previous, _process = _process, settings or Settings.from_env()
    try:
        yield _process
    finally:
        with _process_lock:
            _process = previous
