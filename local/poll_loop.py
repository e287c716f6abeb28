"""A stoppable polling thread: poll() returns True when it found work (poll again at once), else it waits."""

from __future__ import annotations

import threading

IDLE_SLEEP = 0.01  # seconds between empty polls while idle


class PollLoop:
    """A stoppable polling thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"poller {name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll()
            except Exception as exc:  # the embedded AWS going away at stop, or a transient error
                if self.stopping.is_set():
                    return
                print(f"[local] poller {self.name}: {type(exc).__name__}: {exc}")
                busy = False
            if not busy:
                self.stopping.wait(IDLE_SLEEP)

    def poll(self) -> bool:
        raise NotImplementedError
