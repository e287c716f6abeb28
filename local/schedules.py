"""Schedule rules and Schedule events: rate(...) and cron(...) expressions fire their targets.

`speedup` compresses time for tests and demos (rate(1 minute) with speedup 60 fires every second).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from local.pollers import deliver

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_MONTHS = {m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


def seconds_until_next(expression: str, now: datetime) -> float:
    """Seconds from now to the next firing (rate: one interval; cron: the next matching minute, UTC)."""
    rate = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", expression.strip())
    if rate:
        return int(rate.group(1)) * _UNITS[rate.group(2)]
    cron = re.fullmatch(r"cron\((.+)\)", expression.strip())
    if not cron:
        raise ValueError(f"not a schedule expression: {expression}")
    minutes, hours, days, months, weekdays, *_year = cron.group(1).split()
    allowed = (_field(minutes, 0, 59), _field(hours, 0, 23), _field(days, 1, 31), _field(months, 1, 12, _MONTHS),
               _field(weekdays, 1, 7, _DAYS))
    moment = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        weekday = (moment.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        if moment.month not in allowed[3] or moment.day not in allowed[2] or weekday not in allowed[4]:
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        elif moment.hour not in allowed[1]:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
        elif moment.minute not in allowed[0]:
            moment += timedelta(minutes=1)
        else:
            return (moment - now).total_seconds()
    raise ValueError(f"{expression} never fires")


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    if text in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in text.upper().split(","):
        for name, number in (names or {}).items():
            part = part.replace(name, str(number))
        if not re.fullmatch(r"[\d*/-]+", part):
            raise ValueError(f"cron field {text!r} uses syntax the local scheduler does not support")
        span, _, step = part.partition("/")
        start, _, end = span.partition("-")
        first = low if start in ("*", "") else int(start)
        last = (high if (start == "*" or step) and not end else int(end or first))
        values |= set(range(first, last + 1, int(step or 1)))
    return values


class Scheduler:
    def __init__(self, stack: Any, schedules: list[Any], speedup: float = 1.0) -> None:
        self.stack, self.schedules, self.speedup = stack, schedules, speedup
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)

    def start(self) -> None:
        if any(s.enabled for s in self.schedules):
            self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        due = {s.name: time.monotonic() + self._delay(s) for s in self.schedules if s.enabled}
        while not self.stopping.is_set():
            name = min(due, key=due.__getitem__)
            if self.stopping.wait(max(0.0, due[name] - time.monotonic())):
                return
            schedule = next(s for s in self.schedules if s.name == name)
            try:
                self.fire(name)
            except Exception as exc:
                print(f"[local] schedule {name}: {type(exc).__name__}: {exc}")
            due[name] = time.monotonic() + self._delay(schedule)

    def _delay(self, schedule: Any) -> float:
        return seconds_until_next(schedule.expression, datetime.now(UTC)) / self.speedup

    def fire(self, name: str) -> None:
        """Deliver the scheduled event of one schedule (by name) to its targets now."""
        schedule = next(s for s in self.schedules if s.name == name)
        stack = self.stack
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": stack.template.account_id, "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "region": stack.template.region, "resources": [schedule.rule_arn] if schedule.rule_arn else [],
                 "detail": {}}
        for target in schedule.targets:
            deliver(stack, target, event)
