"""A stoppable polling thread: poll() returns True when it found work (poll again at once), else it waits."""

from __future__ import annotations

import threading

from local import activity

IDLE_SLEEP = 0.01  # seconds between polls while filling a batch window


class PollLoop:
    """A stoppable polling thread."""

    def __init__(self, name: str, wake_on: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.wake_on = wake_on  # activity keys whose change makes this poller look again at once
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"poller {name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            seen = activity.snapshot(self.wake_on)
            try:
                busy = self.poll()
            except Exception as exc:  # the embedded AWS going away at stop, or a transient error
                if self.stopping.is_set():
                    return
                print(f"[local] poller {self.name}: {type(exc).__name__}: {exc}")
                busy = False
            if not busy:  # sleep until something changes (or MAX_IDLE for changes made elsewhere)
                activity.wait_for_change(self.wake_on, seen, activity.MAX_IDLE)

    def poll(self) -> bool:
        raise NotImplementedError
