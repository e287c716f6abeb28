"""Schedule rules (rate/cron): being written; this interim version fires none."""

from __future__ import annotations

from typing import Any


class Scheduler:
    def __init__(self, stack: Any, schedules: list[Any], speedup: float = 1.0) -> None:
        self.stack, self.schedules, self.speedup = stack, schedules, speedup

    def start(self) -> None:
        """No schedules fire yet."""

    def stop(self) -> None:
        """Nothing to stop yet."""
