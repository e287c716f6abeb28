"""What every vendor mapping shares: vendor money, numbers and times as canonical values, the envelope builder,
and the guard that turns content the models refuse into Unmappable.

Imported only by normalize (through the mapping modules), never on the ack path: it imports the canonical models.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from erphub.canonical import BillingFrequency, EventEnvelope, EventType
from erphub.errors import Unmappable
from erphub.event_ids import event_id_for
from erphub.sources.inbound import VendorEvent

# ISO 4217 currencies without minor units, as Stripe and Chargebee document them
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                          "VUV", "XAF", "XOF", "XPF"})


def currency(code: Any) -> str | None:
    return str(code).upper() if code else None


def minor_to_major(amount: Any, code: Any) -> Decimal | None:
    """Stripe and Chargebee send integers in the currency's smallest unit."""
    if amount is None:
        return None
    value = Decimal(int(amount))
    if (currency(code) or "") in ZERO_DECIMAL:
        return value
    return value / Decimal(100)


# A business number (amount, quantity, months, version) has at most this many digits either side of the point:
# a million-digit "number" becomes an int no JSON reader takes back (Python refuses over 4,300 digits)
_MAX_MAGNITUDE = 18


def decimal(value: Any, *, field: str = "", system: str = "", default: Decimal | int | None = None) -> Decimal | None:
    if value is None or value == "":
        return None if default is None else Decimal(default)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise Unmappable(f"{field} is not a number: {str(value)[:40]!r}", system=system) from exc
    if not number.is_finite() or (number and abs(number.adjusted()) > _MAX_MAGNITUDE):
        raise Unmappable(f"{field} is not a business number: {str(value)[:40]!r}", system=system)
    return number


# epoch seconds of 0001-01-01 and 9999-12-31: outside them datetime raises OverflowError, OSError or ValueError
_EPOCH_MIN, _EPOCH_MAX = -62_135_596_800, 253_402_300_799


def from_epoch(seconds: Any) -> datetime | None:
    if seconds is None or seconds == "":
        return None
    return datetime.fromtimestamp(_epoch(seconds, 1), tz=UTC)


def from_epoch_ms(millis: Any) -> datetime | None:
    if millis is None or millis == "":
        return None
    return datetime.fromtimestamp(_epoch(millis, 1000) / 1000, tz=UTC)


def _epoch(value: Any, per_second: int) -> int:
    """A vendor timestamp as an int within datetime's range; Unmappable for anything else (bools, floats
    with fractions or out of range, text that is not ASCII digits)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Unmappable(f"timestamp {str(value)[:40]!r} is not an integer")
    if isinstance(value, str) and not _ASCII_INTEGER.fullmatch(value.strip()):
        raise Unmappable(f"timestamp {value[:40]!r} is not an integer")
    number = int(value)
    if not _EPOCH_MIN * per_second <= number <= _EPOCH_MAX * per_second:
        raise Unmappable(f"timestamp {str(number)[:40]} is out of range")
    return number


_ASCII_INTEGER = re.compile(r"-?[0-9]{1,20}")


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 with Z or offset, or a plain date (midnight UTC)."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


_FREQUENCY_BY_MONTHS = {1: BillingFrequency.MONTHLY, 3: BillingFrequency.QUARTERLY,
                        6: BillingFrequency.SEMIANNUAL, 12: BillingFrequency.ANNUAL}


def frequency(unit: Any, count: Any = 1) -> BillingFrequency | None:
    """A vendor's (interval unit, interval count) as a billing frequency: ("month", 3) -> quarterly."""
    if not unit:
        return None
    months_per_unit = {"month": 1, "year": 12, "annual": 12, "quarter": 3}.get(str(unit).lower().rstrip("s"))
    if months_per_unit is None:
        return None
    return _FREQUENCY_BY_MONTHS.get(months_per_unit * int(count or 1))


def frequency_name(name: Any) -> BillingFrequency | None:
    """A CRM picklist value ("Annual", "Semi-Annual", "Quarterly") as a billing frequency."""
    if not name:
        return None
    key = str(name).strip().lower().replace("-", "").replace(" ", "").replace("_", "")
    aliases = {"monthly": "monthly", "month": "monthly", "quarterly": "quarterly", "quarter": "quarterly",
               "semiannual": "semiannual", "semiannually": "semiannual", "annual": "annual",
               "annually": "annual", "yearly": "annual", "year": "annual"}
    return BillingFrequency(aliases[key]) if key in aliases else None


def envelope(
    *,
    source: str,
    vendor_event_id: str,
    type: EventType,
    occurred_at: datetime,
    correlation_id: str,
    business_key: str,
    version: str,
    data: Any,
) -> EventEnvelope:
    return EventEnvelope.of(
        data,
        event_id=event_id_for(source, vendor_event_id),
        type=type,
        source=source,
        source_event_id=vendor_event_id,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        business_key=business_key,
        version=version,
    )


def epoch_version(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def require(value: Any, what: str, system: str, record: str = "") -> Any:
    """Unmappable when a routed event lacks a field the business needs."""
    if value is None or value == "" or value == []:
        raise Unmappable(f"{system}: {what} is missing", system=system, record=record)
    return value


Normalizer = Callable[[VendorEvent], EventEnvelope | None]


def mapping_guard(system: str) -> Callable[[Normalizer], Normalizer]:
    """Decorator for a mapping's normalize(event): content the canonical models refuse becomes Unmappable, never a
    crash."""

    def wrap(normalize: Normalizer) -> Normalizer:
        @functools.wraps(normalize)
        def guarded(event: VendorEvent) -> EventEnvelope | None:
            try:
                return normalize(event)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
                raise Unmappable(f"{system}: {problems}", system=system, record=event.vendor_event_id) from exc
            except Unmappable as exc:
                exc.system, exc.record = exc.system or system, exc.record or event.vendor_event_id
                raise
            # ArithmeticError: decimal's InvalidOperation/Overflow; OSError/OverflowError: datetime out of range
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, OSError,
                    RecursionError) as exc:
                raise Unmappable(f"{system}: {type(exc).__name__}: {str(exc)[:300]}", system=system,
                                 record=event.vendor_event_id) from exc

        return guarded

    return wrap
