"""Where the ingest handlers' cold start goes, by `python -X importtime` (bench/ingest.py prints it last).

Two views, so that the next person sees what dominates:
- `source_tree`: our handler's import from the source tree, top modules by cumulative time (what the import
  statement pulls in);
- `as_shipped`: one cold start of each handler as `sam build` ships it (import + first request, in the clean
  python3.12 with -B: bench/ingest.py cold), every module's own time summed per top-level package, ours beside the
  reference's, sorted by what ours costs more. A first request's lazy imports (botocore, made on the first
  client) count here, as they do on Lambda. The handler modules themselves are left out: the reference makes its
  AWS clients in its module body, ours on the first request (not an import). -X importtime itself adds ~10-15 % to
  every figure.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

Row = tuple[int, int, str]  # cumulative us, self us, module (indented by depth, as -X importtime prints it)
Worker = Callable[..., subprocess.Popen]
HANDLERS = {"app", "ingest_reference"}


def rows(stderr: str) -> list[Row]:
    found = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, self_us, cumulative_us, name = (part.strip(" ") for part in line.replace("import time:", "|").split("|"))
            found.append((int(cumulative_us), int(self_us), name.rstrip()))
    return found


def by_package(found: list[Row]) -> Counter[str]:
    """Own time (us) per top-level package: `pydantic_core.core_schema` counts for pydantic_core."""
    totals: Counter[str] = Counter()
    for _, self_us, name in found:
        if name.strip() not in HANDLERS:
            totals[name.strip().split(".")[0]] += self_us
    return totals


def source_tree(worker: Worker, env: dict[str, str], top: int) -> None:
    process = worker("erphub", "import", env, "-X", "importtime")
    _, stderr = process.communicate()
    found = rows(stderr)
    handler = next((r for r in found if r[2].strip() == "app"), None)
    print(f"import-time breakdown of our handler from the source tree (-X importtime, one fresh interpreter): "
          f"`import app` {handler[0] / 1000 if handler else float('nan'):.1f} ms; top {top} modules by cumulative time")
    for cumulative_us, self_us, name in sorted(found, reverse=True)[:top]:
        print(f"  {cumulative_us / 1000:7.1f} ms cumulative  {self_us / 1000:6.1f} ms self   {name}")


def as_shipped(worker: Worker, env: dict[str, str], shipped: tuple[str, Path], event: str, top: int) -> None:
    python, build = shipped
    totals = {}
    for kind in ("erphub", "reference"):
        process = worker(kind, "cold", env, "-B", "-X", "importtime", extra=("--shipped", str(build)), python=python)
        _, stderr = process.communicate(event)
        totals[kind] = by_package(rows(stderr))
    ours, reference = totals["erphub"], totals["reference"]
    print(f"imports of one cold start as shipped (import + first request, -X importtime), own time per package: ours "
          f"{sum(ours.values()) / 1000:.1f} ms, the reference's {sum(reference.values()) / 1000:.1f} ms; the {top} "
          f"packages that differ most")
    packages = sorted(set(ours) | set(reference), key=lambda p: -abs(ours[p] - reference[p]))
    for package in packages[:top]:
        print(f"  {package:32} ours {ours[package] / 1000:6.1f} ms   reference {reference[package] / 1000:6.1f} ms   "
              f"difference {(ours[package] - reference[package]) / 1000:+6.1f} ms")
