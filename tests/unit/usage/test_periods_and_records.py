from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from erphub.usage.ingest import UsageIn
from erphub.usage.periods import Period, period_of
from erphub.usage.report import overage, usage_key

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("at", "anchor", "frequency", "expected"), [
    (datetime(2026, 11, 3, tzinfo=UTC), date(2026, 11, 1), "monthly", (date(2026, 11, 1), date(2026, 12, 1))),
    (datetime(2026, 12, 1, tzinfo=UTC), date(2026, 11, 1), "monthly", (date(2026, 12, 1), date(2027, 1, 1))),
    # a day before the anchor's day of the month still belongs to the previous period
    (datetime(2026, 12, 14, 23, 59, tzinfo=UTC), date(2026, 1, 15), "monthly",
     (date(2026, 11, 15), date(2026, 12, 15))),
    (datetime(2026, 2, 28, tzinfo=UTC), date(2026, 1, 31), "monthly", (date(2026, 2, 28), date(2026, 3, 31))),
    (datetime(2026, 10, 14, tzinfo=UTC), date(2024, 6, 1), "annual", (date(2026, 6, 1), date(2027, 6, 1))),
    (datetime(2025, 3, 1, tzinfo=UTC), date(2024, 12, 1), "quarterly", (date(2025, 3, 1), date(2025, 6, 1))),
    # the instant is taken in UTC: 00:30 in Paris on Dec 1 is still November
    (datetime(2026, 12, 1, 0, 30, tzinfo=UTC) + timedelta(hours=-1), date(2026, 11, 1), "monthly",
     (date(2026, 11, 1), date(2026, 12, 1))),
])
def test_a_record_falls_in_the_period_of_its_instant(at, anchor, frequency, expected):
    assert period_of(at, anchor, frequency) == Period(*expected)


def test_a_period_closes_its_cutoff_after_its_end():
    period = Period(date(2026, 11, 1), date(2026, 12, 1))
    assert period.closes_at(timedelta(hours=72)) == datetime(2026, 12, 4, tzinfo=UTC)


@pytest.mark.parametrize("bad", [
    {"quantity": "-1"}, {"recorded_at": "2026-11-03T10:00:00"}, {"id": ""}, {"id": "a b"}, {"metric": "api calls"},
    {"quantity": "NaN"}, {"quantity": "1e40"}, {"extra": 1}])
def test_a_record_that_cannot_be_counted_exactly_is_refused(bad):
    record = {"id": "u1", "subscription_id": "sub_1", "metric": "api_calls", "quantity": "1.5",
              "recorded_at": "2026-11-03T10:00:00+01:00"}
    assert UsageIn.model_validate(record).recorded_at == datetime(2026, 11, 3, 9, tzinfo=UTC)
    with pytest.raises(ValidationError):
        UsageIn.model_validate({**record, **bad})


def test_the_overage_is_what_exceeds_the_included_quantity_and_never_negative():
    total = {"pk": "TOTAL#stripe#sub_1#api_calls", "sk": "PERIOD#2026-11-01", "context": {"included": "1000"}}
    assert overage({**total, "quantity": 3999}) == 2999 and overage({**total, "quantity": 10}) == 0
    assert usage_key(total) == "usage:stripe:sub_1:api_calls:2026-11-01"
