"""Files generated from a source of truth and committed (schemas/, statemachines/*.asl.json): write them, or
`--check` that the committed ones are what the generator makes (the drift tests use the same comparison)."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def drift(files: dict[Path, str]) -> list[Path]:
    """The files that are missing or differ from what was generated."""
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text]


def main(description: str, files: dict[Path, str], target: str, argv: list[str] | None = None) -> int:
    """Write the files, or with --check list the stale ones (run `make <target>`) and exit 1."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if a generated file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = drift(files)
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run `make {target}`")
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0
