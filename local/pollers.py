"""Event source pollers (SQS, DynamoDB streams, rule bridges): being written; this interim version starts none."""

from __future__ import annotations

from typing import Any


class Pollers:
    def __init__(self, stack: Any, wiring: Any) -> None:
        self.stack, self.wiring = stack, wiring

    def start(self) -> None:
        """No pollers yet."""

    def stop(self) -> None:
        """Nothing to stop yet."""
