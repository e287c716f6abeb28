"""Runs ONE handler of the built artifact, as the Lambda Python runtime would, in the clean interpreter.

Started by tools.artifact as `python -I -B tools/artifact_runner.py SPEC_JSON RESULT_JSON` in a python3.12 that has
only boto3 (what the Lambda runtime ships): standard library only here, nothing of the repo is importable
(-I: no PYTHONPATH, no user site, no script directory). sys.path is laid out as Lambda lays it out: the
function's code (/var/task), then each layer's python/ (/opt/python), then the runtime's own site-packages.
The environment is the function's Lambda environment, set by the caller. It runs with -B, as Lambda's read-only
file system keeps a runtime from writing bytecode, and reports every layer module it had to compile from source
(a .pyc missing, or not valid for the files as sam's zip dates them): a cost each cold start would pay again.
"""

import importlib
import importlib.machinery
import json
import os
import sys
import time
import traceback
import uuid


class LambdaContext:
    def __init__(self, spec: dict) -> None:
        self.function_name = spec["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec["function_arn"]
        self.memory_limit_in_mb = spec["memory"]
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec['function_name']}"
        self.log_stream_name = f"artifact/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec["timeout"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def count_compiles(folders: list, compiled: list) -> None:
    """Record each module under `folders` that the import system compiles from its source."""
    loader = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def source_to_code(self, data, path, *args, **kwargs):
        if str(path).startswith(tuple(os.path.join(folder, "") for folder in folders)):
            compiled.append(str(path))
        return original(self, data, path, *args, **kwargs)

    loader.source_to_code = source_to_code  # type: ignore[method-assign]


def main(spec_path: str, result_path: str) -> int:
    with open(spec_path, encoding="utf-8") as file:
        spec = json.load(file)
    sys.path[:0] = [spec["code_dir"], *spec["layer_dirs"]]
    result: dict = {"phase": "import", "compiled": []}
    count_compiles(spec["layer_dirs"], result["compiled"])
    try:
        started = time.monotonic()
        module_name, _, function_name = spec["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), function_name)
        result["import_seconds"] = round(time.monotonic() - started, 3)
        result["phase"] = "invoke"
        started = time.monotonic()
        response = handler(spec["event"], LambdaContext(spec))
        result.update(invoke_seconds=round(time.monotonic() - started, 3), response=response, ok=True)
    except BaseException as exc:  # report whatever the runtime would report (ImportError included)
        result.update(ok=False, errorType=type(exc).__name__, errorMessage=str(exc),
                      stackTrace=traceback.format_exception(exc)[-6:])
        # a batch whose records all failed: the records' own errors (ExceptionInfo tuples) say why
        result["childErrors"] = [info[0].__name__ for info in getattr(exc, "child_exceptions", None) or []]
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump(result, file, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
