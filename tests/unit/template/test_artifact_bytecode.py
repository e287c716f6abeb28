"""What ships is what a cold start runs: the hub layer is built by its Makefile (hash-based .pyc), the artifact is
dated as sam's zip dates it, and the artifact runner reports every layer module a cold start had to compile.

The runner's report is checked both ways on a tiny layer: timestamp-based .pyc (what pip writes) are invalid once
the files carry the zip's date, so the module is compiled; hash-based ones (what the Makefile writes) are used."""

import compileall
import json
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import Template
from tools import artifact, artifact_runner

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]

MODES = {"timestamp": py_compile.PycInvalidationMode.TIMESTAMP,
         "checked-hash": py_compile.PycInvalidationMode.CHECKED_HASH}


def test_the_hub_layer_is_built_by_its_makefile():
    layers = [unit for unit in artifact.units() if unit.is_layer]
    assert [(unit.logical_id, unit.build_method) for unit in layers] == [("HubLayer", "makefile")]
    makefile = (layers[0].source / "Makefile").read_text(encoding="utf-8")
    assert "build-HubLayer:" in makefile and "--invalidation-mode checked-hash" in makefile
    # the wheels' platform is the layer's architecture (sam does not pass it to make)
    metadata = Template(ROOT / "template.yaml").sam["HubLayer"]["Metadata"]
    assert f"LAYER_PLATFORM = {artifact.PLATFORMS[metadata['BuildArchitecture']]}\n" in makefile


def test_the_bytecode_is_the_runtime_s():
    """A .pyc is only read by the Python version that wrote it: the layer's, the artifact check's and the
    functions' runtime are one version."""
    template = Template(ROOT / "template.yaml")
    runtimes = {props.get("Runtime") or template.doc["Globals"]["Function"]["Runtime"]
                for props in (r.get("Properties", {}) for r in template.sam.values()
                              if r["Type"] == "AWS::Serverless::Function")}
    makefile = (ROOT / "layers" / "hub" / "python" / "Makefile").read_text(encoding="utf-8")
    assert runtimes == {f"python{artifact.PYTHON_VERSION}"}
    assert f"sys.version_info[:2] == ({artifact.PYTHON_VERSION.replace('.', ', ')})" in makefile


def _cold_start(tmp_path: Path, mode: str) -> list[str]:
    """Compile a one-module layer in `mode`, date everything as sam's zip does, invoke a handler importing it."""
    task, layer = tmp_path / "task", tmp_path / "layer" / "python"
    task.mkdir()
    layer.mkdir(parents=True)
    (task / "app.py").write_text("def handler(event, context):\n"
                                 "    import shipped_lib\n"
                                 "    return shipped_lib.ANSWER\n")
    (layer / "shipped_lib.py").write_text("ANSWER = {'ok': True}\n")
    assert compileall.compile_dir(str(layer), quiet=1, invalidation_mode=MODES[mode])
    artifact.date_as_zipped(tmp_path)
    spec, result = tmp_path / "spec.json", tmp_path / "result.json"
    spec.write_text(json.dumps({"code_dir": str(task), "layer_dirs": [str(layer)], "handler": "app.handler",
                                "event": {}, "function_name": "f", "function_arn": "arn", "memory": 128,
                                "timeout": 3}))
    subprocess.run([sys.executable, "-I", "-B", artifact_runner.__file__, str(spec), str(result)], check=True,
                   timeout=30)
    outcome = json.loads(result.read_text())
    assert outcome["ok"] and outcome["response"] == {"ok": True}
    return outcome["compiled"]


def test_a_timestamp_pyc_dated_as_zipped_is_compiled_again_and_reported(tmp_path):
    assert [Path(p).name for p in _cold_start(tmp_path, "timestamp")] == ["shipped_lib.py"]


def test_a_hash_based_pyc_is_used_whatever_the_date(tmp_path):
    assert _cold_start(tmp_path, "checked-hash") == []
