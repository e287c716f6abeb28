"""Everything a function reads from its environment, as one plain dataclass, parsed once per process.

On Lambda the environment is the process's: `get_settings()` parses it on first use and hands out the same
object afterwards (no re-reading per request). Whatever is built from the configuration (boto3 clients, secrets
caches, connectors) is kept on that object (`resource`), so it lives exactly as long as the configuration it was
built from and no cache needs a key made of environment variables.

A runner that hosts several functions in one process (the local stack) gives each invocation its function's
settings with `invocation_settings(...)`; tests replace the process's settings with `use_settings(...)`.

The standard library rather than pydantic: every function imports this module, and what it needs of a validation
library is a name-to-field mapping, a few integers with a floor and two values that must never print. Importing
pydantic alone cost ~51-57 ms of the webhook-ingest function's ~245 ms cold start as shipped
(bench/import_breakdown.py), so the functions' configuration must not be what brings it in. (Earlier,
pydantic-settings' BaseSettings went for the same reason: ~45 ms, and Lambda sets no source but the environment.)
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
_STATE_MACHINE = "STATE_MACHINE_"  # STATE_MACHINE_<FAMILY>=arn, e.g. STATE_MACHINE_ACTIVATION
_FAMILIES = ("state_machine_arns", "environment")  # collected from many variables, never one variable's value


class SettingsError(ValueError):
    """A variable whose value the configuration cannot take: names the field and what is wrong."""


class Secret:
    """A value that never prints (a credential): repr and str are asterisks, `get_secret_value()` is the value."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __bool__(self) -> bool:  # an empty credential is no credential (erphub.aws falls back to botocore's chain)
        return bool(self._value)

    def __repr__(self) -> str:
        return "'**********'"


def _at_least(minimum: int, default: int) -> Any:
    return dataclasses.field(default=default, metadata={"minimum": minimum})


# frozen: what `resource` keeps was built from these values, so they cannot change under it; eq=False: each
# Settings owns its resources, so two are the same configuration only when they are the same object
@dataclasses.dataclass(frozen=True, eq=False)
class Settings:
    """Field names are the variables' names (case-insensitive): INBOX_TABLE -> inbox_table."""

    stage: str = "dev"
    inbox_table: str = ""
    raw_bucket: str = ""
    event_bus_name: str = ""
    identity_table: str = ""
    workflow_table: str = ""
    erp_posting_queue_url: str = ""
    source_secret_prefix: str = "erphub/dev/webhooks/"  # noqa: S105 - a name, not a secret
    secrets_max_age_seconds: int = _at_least(0, default=300)  # a rotated secret is used within this time
    max_body_bytes: int = 1_048_576
    # an item may hold 400 KB, its canonical event up to ~254 KB of them: above this the raw body goes to S3 and the
    # item keeps a pointer (erphub.ingest.service caps it at what always fits beside the largest inline event)
    inline_body_limit_bytes: int = 128_000
    inbox_ttl_days: int = _at_least(7, default=14)
    # a failed queue message comes back after this, doubling per receive (erphub.consuming)
    retry_delay_seconds: int = _at_least(0, default=15)
    state_machine_arns: dict[str, str] = dataclasses.field(default_factory=dict)
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
    usage_late_cutoff_hours: int = _at_least(0, default=72)
    # the sync API's tax calculation: the billing vendor's ("billing") or the ERP's tax codes ("erp")
    tax_engine: str = "billing"
    # operators: the topic notifications go to (erphub.operations.notify)
    ops_topic_arn: str = ""
    # scheduled reconciliation (erphub.reconciliation): the function that continues a run, contracts per invocation
    reconciler_function: str = ""
    # the KPI projection's table (erphub.kpis)
    kpi_table: str = ""
    reconcile_budget: int = _at_least(1, default=200)
    # where and as whom AWS is reached (erphub.aws); on Lambda the runtime sets these, locally the local stack
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    aws_default_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: Secret | None = None
    aws_session_token: Secret | None = None
    # the whole environment as given: connectors read their <SYSTEM>_* family from it (erphub.connectors);
    # never printed (it holds the credentials)
    environment: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)

    _resources: dict[Any, Any] = dataclasses.field(default_factory=dict, init=False, repr=False)
    # re-entered: a client is made from the session
    _lock: Any = dataclasses.field(default_factory=threading.RLock, init=False, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of an environment: this process's (None), or a function's hosted by the local stack.
        A variable sets the field of its name, whatever its case; a bad value is a SettingsError naming it."""
        env = os.environ if env is None else env
        types = {f.name: f.type for f in dataclasses.fields(cls) if f.init and f.name not in _FAMILIES}
        given = {name.lower(): value for name, value in env.items() if name.lower() in types}
        arns = {k[len(_STATE_MACHINE):].lower(): v for k, v in env.items() if k.startswith(_STATE_MACHINE) and v}
        parsed = {name: _parse(name, types[name], value) for name, value in given.items()}
        return cls(**parsed, state_machine_arns=arns, environment=dict(env))

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            minimum, value = field.metadata.get("minimum"), getattr(self, field.name)
            if minimum is not None and value < minimum:
                raise SettingsError(f"{field.name} ({field.name.upper()}) is {value}: must be at least {minimum}")

    def resource(self, key: Any, make: Callable[[], T]) -> T:
        """What is built from this configuration, built once (`make`) and kept as long as the configuration."""
        resources = self._resources
        if key in resources:
            return resources[key]
        with self._lock:
            if key not in resources:
                resources[key] = make()
            return resources[key]


def _parse(name: str, annotation: Any, value: str) -> Any:
    """A variable's text as its field's type (the annotations are text here: `from __future__ import annotations`)."""
    if annotation == "int":
        try:
            return int(value)
        except ValueError:
            raise SettingsError(f"{name} ({name.upper()}) is {value!r}: not a whole number") from None
    return Secret(value) if annotation == "Secret | None" else value


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
