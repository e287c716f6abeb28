"""The vendor sandbox in a process of its own, steered through its control API (/_sandbox/...).

The vendors' servers are not the hub's: where a measurement is about the hub (bench.workflows), the sandbox
serving in the hub's process would put the vendors' work on the hub's one interpreter (its request handling:
~17 ms of the local stack's CPU per activation in that bench). `SandboxProcess` runs it in a child process and
answers the calls that cross a process: base URLs, credentials, seeds, records, faults, limits, the gate's counts.

    python -m local.sandbox.process [host]   # serves until its stdin closes; prints its URL first
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class SandboxProcess:
    def __init__(self, host: str = "127.0.0.1") -> None:
        import requests

        self._child = subprocess.Popen(  # noqa: S603 - this interpreter, this repository's module
            [sys.executable, "-m", "local.sandbox.process", host], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        line = self._child.stdout.readline().strip() if self._child.stdout else ""
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the sandbox process did not start (it said {line!r})")
        self.url = line
        self._http = requests.Session()
        self.faults = _Faults(self)

    def base_url(self, vendor: str) -> str:
        return f"{self.url}/{vendor}"

    def credentials(self, vendor: str) -> dict[str, Any]:
        answer = self.control("GET", f"credentials/{vendor}")
        answer.pop("base_url", None)
        return answer

    def seed(self, vendor: str, kind: str, record: dict[str, Any]) -> str:
        return str(self.control("POST", f"records/{vendor}/{kind}", record)["id"])

    def records(self, vendor: str, kind: str) -> list[dict[str, Any]]:
        return list(self.control("GET", f"records/{vendor}/{kind}"))

    def limit_concurrency(self, vendor: str, n: int | None) -> None:
        self.control("POST", "limits", {"vendor": vendor, "n": n})

    def max_in_flight(self, vendor: str) -> int:
        return int(self._stat("max_in_flight", vendor) or 0)

    def refused(self, vendor: str) -> int:
        return int(self._stat("refused", vendor) or 0)

    def admitted(self, vendor: str) -> int:
        return int(self._stat("admitted", vendor) or 0)

    def occupancy(self, vendor: str) -> dict[str, float] | None:
        return self._stat("occupancy", vendor)

    def _stat(self, name: str, vendor: str) -> Any:
        """One vendor's figure of the sandbox's stats (Sandbox.stats), None when it has none yet."""
        return self.control("GET", "stats")[name].get(vendor)

    def reset(self) -> None:
        self.control("POST", "reset")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=10)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox control {method} /_sandbox/{path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def stop(self) -> None:
        if self._child.stdin is not None and not self._child.stdin.closed:
            self._child.stdin.close()  # the child's signal to stop
        try:
            self._child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        if self._child.stdout is not None:
            self._child.stdout.close()


class _Faults:
    """`sandbox.faults.inject(...)` as in the process (the sandbox checks the fields as `Faults.inject` does); the
    fault's fields come back as a dict."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox

    def inject(self, vendor: str, operation: str | None = None, **fields: Any) -> dict[str, Any]:
        return dict(self.sandbox.control("POST", "faults", {"vendor": vendor, "operation": operation, **fields}))

    def clear(self) -> None:
        self.sandbox.control("DELETE", "faults")


def main(argv: list[str]) -> None:
    from local import sandbox

    with sandbox.start(argv[0] if argv else "127.0.0.1") as running:
        print(running.url, flush=True)
        sys.stdin.read()  # until the parent closes it, or exits


if __name__ == "__main__":
    main(sys.argv[1:])
