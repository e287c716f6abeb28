"""Where the ingest handlers' cold start goes, by `python -X importtime` (bench/ingest.py prints it last).

Two views, so that the next person sees what dominates:
- `source_tree`: our handler's import from the source tree, top modules by cumulative time (what the import
  statement pulls in);
- `as_shipped`: one cold start of each handler as `sam build` ships it (import + first request, in the clean
  python3.12 with -B: bench/ingest.py cold_worker), every module's own time summed per top-level package, ours
  beside the reference's, the packages whose figures differ most first. One run each, and for the whole worker
  process: the interpreter's start and the bench worker's own imports count on both sides alike. A first request's
  lazy imports (botocore, made on the first client) count, as they do on Lambda. The handler modules themselves
  are left out: the reference makes its AWS clients in its module body, ours on the first request (not an import).
  -X importtime itself adds ~10-15 % to every figure.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable

from bench import ingest_worker

Row = tuple[int, int, str]  # cumulative us, own us, module name
KINDS = tuple(ingest_worker.HANDLERS)  # erphub, reference
HANDLER_MODULES = {module for _, module in ingest_worker.HANDLERS.values()}


def importtime_rows(stderr: str) -> list[Row]:
    found = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, own_us, cumulative_us, name = (part.strip() for part in line.replace("import time:", "|").split("|"))
            found.append((int(cumulative_us), int(own_us), name))
    return found


def by_package(found: list[Row]) -> Counter[str]:
    """Own time (us) per top-level package: `pydantic_core.core_schema` counts for pydantic_core."""
    totals: Counter[str] = Counter()
    for _, own_us, name in found:
        if name not in HANDLER_MODULES:
            totals[name.split(".")[0]] += own_us
    return totals


def source_tree(worker: Callable[..., subprocess.Popen], env: dict[str, str], top: int) -> None:
    process = worker("erphub", "import", env, "-X", "importtime")
    _, stderr = process.communicate()
    found = importtime_rows(stderr)
    handler = next((r for r in found if r[2] == "app"), None)
    print(f"import-time breakdown of our handler from the source tree (-X importtime, one fresh interpreter): "
          f"`import app` {handler[0] / 1000 if handler else float('nan'):.1f} ms; top {top} modules by cumulative time")
    for cumulative_us, own_us, name in sorted(found, reverse=True)[:top]:
        print(f"  {cumulative_us / 1000:7.1f} ms cumulative  {own_us / 1000:6.1f} ms self   {name}")


def as_shipped(cold_worker: Callable[..., subprocess.Popen], event: str, top: int) -> None:
    """cold_worker(kind, *python options): bench/ingest.py's, as shipped."""
    totals = {}
    for kind in KINDS:
        process = cold_worker(kind, "-X", "importtime")
        stdout, stderr = process.communicate(event)  # both pipes at once: -X importtime writes ~50 KB to stderr
        answer = json.loads(stdout.splitlines()[0]) if process.returncode == 0 and stdout.strip() else {}
        if answer.get("status") not in (200, 202):
            raise RuntimeError(f"the {kind} handler's cold start as shipped failed: {answer or stderr[-2000:]}")
        totals[kind] = by_package(importtime_rows(stderr))
    ours, reference = totals["erphub"], totals["reference"]
    print(f"imports of one cold start as shipped (import + first request, -X importtime, one run each), own time per "
          f"package in the whole worker process: ours {sum(ours.values()) / 1000:.1f} ms, the reference's "
          f"{sum(reference.values()) / 1000:.1f} ms; the {top} packages whose figures differ most")
    packages = sorted(set(ours) | set(reference), key=lambda p: (-abs(ours[p] - reference[p]), p))
    for package in packages[:top]:
        print(f"  {package:32} ours {ours[package] / 1000:6.1f} ms   reference {reference[package] / 1000:6.1f} ms   "
              f"difference {(ours[package] - reference[package]) / 1000:+6.1f} ms")
