"""Builds what `sam build` ships — the layer and each function, from their own requirements — twice:

- for the template's runtime and architecture (python3.12, arm64): wheels only, for manylinux2014_aarch64, which
  proves every requirement resolves to a wheel Lambda can load;
- for this machine (x86_64), into .artifact/x86_64/, run by a clean python3.12 that has nothing but boto3 (what
  the Lambda runtime ships): tools.artifact_check imports and invokes every handler from there.

Nothing of the development lock is used: a package the code needs but only the dev lock has fails the check.
A unit whose Metadata says `BuildMethod: makefile` (the hub layer) is built by its own Makefile's `build-<id>`
target, as sam build runs it: in a copy of its folder, with ARTIFACTS_DIR set. Every built file is then dated
1980-01-01, as sam's zip dates it on Lambda, so the check sees the same .pyc validity Lambda sees.
pip's own cache and stamps make repeat runs fast: per requirements file (its text, the target, the pip arguments),
per makefile unit (its sources, the target, the make variables).

With --sam, the real `sam build` builds the template too (arm64, as deployed, into .artifact/sam), and each unit
it built must hold the same files as this module's arm64 build: the emulation the check relies on stays what
sam ships.

    python -m tools.artifact [--sam .venv-tools/sam/bin/sam]   # build, check, print a summary; exit 1 on a failure
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from local.template import Template

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".artifact"
PYTHON_VERSION = "3.12"  # the template's Runtime: python3.12
PYENV_VERSION = "3.12.1"
# arm64 is what the template deploys; x86_64 is this machine, where the built artifact can be imported
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
SAM_BUILD = OUT / "sam"
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z: the date of every file sam's zip ships


class ArtifactError(Exception):
    """The artifact cannot be built (a requirement without a wheel, no python3.12, ...)."""


@dataclass(frozen=True)
class Unit:
    """One thing sam build builds: a layer (into python/) or a function (into its own folder)."""

    logical_id: str
    source: Path
    is_layer: bool
    build_method: str = "python3.12"

    @property
    def requirements(self) -> Path | None:
        path = self.source / "requirements.txt"
        return path if path.is_file() else None


def units(template_path: Path = ROOT / "template.yaml") -> list[Unit]:
    template = Template(template_path)
    found = []
    for logical_id, resource in template.sam.items():  # as written: `sam build` names its folders by these ids
        props = resource.get("Properties", {})
        if "Condition" in resource and not template.condition(resource["Condition"]):
            continue
        if resource["Type"] == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            method = resource.get("Metadata", {}).get("BuildMethod", f"python{PYTHON_VERSION}")
            found.append(Unit(logical_id, template.local_path(props["ContentUri"]), is_layer=True, build_method=method))
        elif resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            found.append(Unit(logical_id, template.local_path(props["CodeUri"]), is_layer=False))
    return found


def runtime_boto3() -> str:
    """The boto3 pin of pyproject.toml's runtime dependencies: the SDK the Lambda runtime provides."""
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return next(pin for pin in pins if pin.lower().startswith("boto3=="))


def clean_python() -> Path:
    """.artifact/python3.12: a virtualenv of pyenv's 3.12 (or python3.12 on PATH) with only the runtime's boto3."""
    venv = OUT / f"python{PYTHON_VERSION}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    wanted = runtime_boto3()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    _run([str(_base_python()), "-m", "venv", str(venv)])
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wanted])
    stamp.write_text(wanted)
    return python


def _base_python() -> Path:
    env = {**os.environ, "PYENV_VERSION": PYENV_VERSION}
    pyenv = shutil.which("pyenv")
    if pyenv:
        found = subprocess.run([pyenv, "which", "python"], env=env,  # noqa: S603 - pyenv found on PATH
                               capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            return Path(found.stdout.strip())
    on_path = shutil.which(f"python{PYTHON_VERSION}")
    if on_path:
        return Path(on_path)
    raise ArtifactError(f"no python{PYTHON_VERSION}: install pyenv's {PYENV_VERSION} or put python3.12 on PATH")


def build(arch: str, python: Path, all_units: list[Unit]) -> dict[str, Path]:
    """{logical id: the built folder} (a layer's is its /opt/python, a function's its /var/task)."""
    built = {}
    for unit in all_units:
        if unit.build_method == "makefile":
            built[unit.logical_id] = make(python, unit, OUT / arch / "build" / unit.logical_id, PLATFORMS[arch])
            continue
        deps = OUT / arch / "deps" / unit.logical_id
        if unit.requirements:
            install(python, unit.requirements, deps, PLATFORMS[arch])
        target = OUT / arch / "build" / unit.logical_id
        shutil.rmtree(target, ignore_errors=True)
        _stamp(target).unlink(missing_ok=True)
        code = target / "python" if unit.is_layer else target
        if deps.is_dir():
            shutil.copytree(deps, code, ignore=shutil.ignore_patterns(".stamp"), copy_function=os.link)
        shutil.copytree(unit.source, code, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        date_as_zipped(target)
        built[unit.logical_id] = code
    return built


def make(python: Path, unit: Unit, target: Path, platform: str) -> Path:
    """`make build-<id>` in a copy of the unit's folder with ARTIFACTS_DIR=target, as sam build runs a makefile
    build; skipped when the stamp says the sources and arguments are the same. Returns the layer's python/."""
    variables = {"ARTIFACTS_DIR": str(target), "LAYER_PYTHON": str(python), "LAYER_PLATFORM": platform}
    digest = hashlib.sha256(repr(sorted(variables.items())).encode())
    for path in sorted(p for p in unit.source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(unit.source)).encode() + b"\0" + path.read_bytes())
    stamp = _stamp(target)
    if target.is_dir() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return target / "python"
    shutil.rmtree(target, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"sam-build-{unit.logical_id}-") as scratch:
        shutil.copytree(unit.source, scratch, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        try:
            _run(["make", "--no-print-directory", "-C", scratch, f"build-{unit.logical_id}",
                  *(f"{name}={value}" for name, value in variables.items())])
        except ArtifactError as exc:
            raise ArtifactError(f"{unit.logical_id}'s Makefile failed for {platform}:\n{exc}") from exc
    date_as_zipped(target)
    stamp.write_text(digest.hexdigest())
    return target / "python"


def _stamp(target: Path) -> Path:
    """What the last makefile build of `target` was made from (beside it: the folder itself is what ships)."""
    return target.with_name(f".{target.name}.stamp")


def date_as_zipped(folder: Path) -> None:
    """Every file and folder dated 1980-01-01, as sam's zip leaves them on Lambda (its entries carry no date):
    a timestamp-based .pyc never matches its source there, only a hash-based one is used."""
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH), follow_symlinks=False)


def install(python: Path, requirements: Path, target: Path, platform: str) -> None:
    """pip install -r into target, wheels only, for the platform; skipped when the stamp says it is up to date."""
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--target", str(target),
               "--only-binary=:all:", "--platform", platform, "--python-version", PYTHON_VERSION,
               "--implementation", "cp", "-r", str(requirements)]
    stamp = target / ".stamp"
    digest = hashlib.sha256(requirements.read_bytes() + "\0".join(command[1:]).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    shutil.rmtree(target, ignore_errors=True)
    try:
        _run(command)
    except ArtifactError as exc:
        raise ArtifactError(f"{requirements.relative_to(ROOT)} does not resolve to {platform} wheels for "
                            f"python{PYTHON_VERSION}:\n{exc}") from exc
    stamp.write_text(digest)


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)  # noqa: S603 - our own
    if done.returncode != 0:
        raise ArtifactError(f"$ {' '.join(command)}\n{done.stderr.strip() or done.stdout.strip()}")


def sam_build(sam: Path, python: Path, all_units: list[Unit]) -> list[str]:
    """The real `sam build` of template.yaml (no container: the clean python3.12 first on PATH, no AWS account),
    compared unit by unit with this module's arm64 build: the differences, none when the emulation is faithful."""
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}", "SAM_CLI_TELEMETRY": "0",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    for name in ("AWS_PROFILE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # not make's own variables: sam runs make
        env.pop(name, None)
    shutil.rmtree(SAM_BUILD, ignore_errors=True)
    _run([str(sam), "build", "--no-cached", "--template", str(ROOT / "template.yaml"), "--build-dir", str(SAM_BUILD)],
         env=env)
    differences = []
    for unit in all_units:
        ours, theirs = _files(OUT / "arm64" / "build" / unit.logical_id), _files(SAM_BUILD / unit.logical_id)
        if ours != theirs:
            differences.append(f"{unit.logical_id}: only in sam's build {sorted(theirs - ours)[:3]}, only in ours "
                               f"{sorted(ours - theirs)[:3]} ({len(theirs ^ ours)} files differ)")
    return differences


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def main(argv: list[str] | None = None) -> int:
    from tools import artifact_check

    parser = argparse.ArgumentParser(description="Build what sam build ships, check it, print a summary.")
    parser.add_argument("--sam", type=Path, help="the SAM CLI: also run the real sam build and compare")
    args = parser.parse_args(argv)
    try:
        python = clean_python()
        all_units = units()
        for arch in PLATFORMS:
            started = time.monotonic()
            build(arch, python, all_units)
            print(f"[artifact] built {len(all_units)} units for {arch} ({PLATFORMS[arch]}, python{PYTHON_VERSION}) "
                  f"in .artifact/{arch}/build ({time.monotonic() - started:.1f} s)")
        if args.sam:
            started = time.monotonic()
            differences = sam_build(args.sam, python, all_units)
            print(f"[artifact] sam build (arm64) into {SAM_BUILD.relative_to(ROOT)}: {len(all_units)} units, "
                  f"{len(differences)} differ from ours ({time.monotonic() - started:.1f} s)")
            if differences:
                print("\n".join(f"[artifact] FAILED: {line}" for line in differences), file=sys.stderr)
                return 1
    except ArtifactError as exc:
        print(f"[artifact] FAILED to build: {exc}", file=sys.stderr)
        return 1
    return artifact_check.run(python, OUT / "x86_64" / "build", all_units)


if __name__ == "__main__":
    raise SystemExit(main())
