"""Business configuration (catalog, subsidiary currencies, approval policy, reconciliation options), read at run
time from one SSM parameter so that changing a SKU needs no deploy.

The committed source is config/business.json; the template's BusinessConfigParameter holds the same document
(`sam deploy` publishes it) and `python -m tools.business_config publish` replaces it without a deploy. The
whole document is validated before any value of it is used: a bad edit fails every reader loudly with
BusinessConfigInvalid, it never applies in part.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from erphub import aws
from erphub.errors import Permanent
from erphub.settings import get_settings

PARAMETER_ENV = "BUSINESS_CONFIG_PARAMETER"
# how long a function keeps a read value: an edit reaches every function within this time
MAX_AGE_SECONDS = 60


class BusinessConfigInvalid(Permanent):
    """The business configuration is missing or does not validate; nothing of it is applied."""


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: Decimal = Field(ge=0, description="deals above this value wait for an approver")
    # the approval wait's bounds are the approval kind's (exception_kinds.json); a stage may only shorten them
    timeout_seconds: int = Field(default=0, ge=0, description="shortens how long an approval may wait (0: the kind's)")
    heartbeat_seconds: int = Field(default=0, ge=0,
                                   description="shortens how long an approval may go unacknowledged (0: the kind's)")

    @model_validator(mode="after")
    def _heartbeat_within_timeout(self) -> Approval:
        if self.timeout_seconds and self.heartbeat_seconds > self.timeout_seconds:
            raise ValueError(f"heartbeat_seconds {self.heartbeat_seconds} exceeds timeout_seconds "
                             f"{self.timeout_seconds}")
        return self


class BusinessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    product_catalog: tuple[str, ...] = Field(description="sellable SKUs; an empty list accepts every SKU")
    subsidiary_currencies: dict[str, str] = Field(description="ERP subsidiary -> ISO 4217 currency it books in")
    approval: Approval
    compare_prices: bool = Field(description="reconciliation compares billed prices too")

    @field_validator("product_catalog")
    @classmethod
    def _skus(cls, skus: tuple[str, ...]) -> tuple[str, ...]:
        blank = [s for s in skus if not s.strip() or s != s.strip()]
        if blank:
            raise ValueError(f"SKUs must be non-blank without surrounding spaces: {blank!r}")
        repeated = sorted({s for s in skus if skus.count(s) > 1})
        if repeated:
            raise ValueError(f"SKUs listed twice: {repeated}")
        return skus

    @field_validator("subsidiary_currencies")
    @classmethod
    def _currencies(cls, currencies: dict[str, str]) -> dict[str, str]:
        bad = {sub: cur for sub, cur in currencies.items()
               if not sub.strip() or len(cur) != 3 or not cur.isalpha() or not cur.isupper()}
        if bad:
            raise ValueError(f"currencies must be ISO 4217 codes in capitals, per non-blank subsidiary: {bad}")
        return currencies


def parse(document: str | bytes) -> BusinessConfig:
    """The validated configuration, or BusinessConfigInvalid naming every problem of the document."""
    try:
        return BusinessConfig.model_validate_json(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in exc.errors())
        raise BusinessConfigInvalid(f"business configuration is invalid: {problems}",
                                    system="hub", record="business-config") from exc


def current() -> BusinessConfig:
    """The configuration this function runs with: the parameter named by BUSINESS_CONFIG_PARAMETER, read at most
    once per MAX_AGE_SECONDS (Powertools Parameters' cache)."""
    name = get_settings().business_config_parameter
    if not name:
        raise BusinessConfigInvalid(f"{PARAMETER_ENV} is not set: the function has no business configuration",
                                    system="hub", record="business-config")
    return _parsed(_read(name))


def _read(name: str) -> str:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return str(_provider().get(name, max_age=MAX_AGE_SECONDS))
    except GetParameterError as exc:
        raise BusinessConfigInvalid(f"business configuration {name} cannot be read: {exc}",
                                    system="hub", record="business-config") from exc


def _provider() -> Any:
    """One Powertools provider (and its cache) per configuration."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return get_settings().resource("business_config.ssm", lambda: SSMProvider(boto3_client=aws.client("ssm")))


@lru_cache(maxsize=8)
def _parsed(document: str) -> BusinessConfig:
    return parse(document)
