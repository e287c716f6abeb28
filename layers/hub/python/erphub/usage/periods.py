"""Billing periods of a subscription and the cut-off after which a period takes no more usage.

A period starts at the contract's term start plus whole periods (months per billing frequency, or the usage
terms' own period), as billing anchors the subscription at the term start. Boundaries are UTC midnights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from erphub.connectors.base import add_months
from erphub.settings import get_settings

MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}
DEFAULT_CUTOFF_HOURS = 72


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive: the next period's start

    def closes_at(self, cutoff: timedelta) -> datetime:
        return _midnight(self.end) + cutoff


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def period_of(at: datetime, anchor: date, frequency: str) -> Period:
    """The period of `anchor`'s cycle that contains the instant `at` (before the anchor: the cycle's first)."""
    months = MONTHS.get(frequency, 12)
    day = at.astimezone(UTC).date()
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = max(elapsed // months, 0)
    while index > 0 and add_months(anchor, index * months) > day:
        index -= 1  # a day of the month before the anchor's day still belongs to the previous period
    return Period(add_months(anchor, index * months), add_months(anchor, (index + 1) * months))


def cutoff() -> timedelta:
    """How long after a period's end its late usage is still counted (USAGE_LATE_CUTOFF_HOURS)."""
    return timedelta(hours=get_settings().usage_late_cutoff_hours)
