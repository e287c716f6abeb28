"""One Lambda execution environment for bench/ingest.py: a fresh interpreter whose environment is the webhook
function's (as the local stack / Lambda gives it), importing one handler as the runtime does and invoking it.

    python bench/ingest_worker.py erphub|reference cold|warm|import|profile [stats file] [--shipped BUILD]

Events come one JSON line each on stdin; answers go as JSON lines on the original stdout (the handler's own
stdout - log lines, EMF metrics - goes to /dev/null, as cheap as a runtime's log pipe can be).
- cold: read one event, then time the handler's import and its first invocation (wall and this process's CPU
  time); answer and exit.
- warm: first invocation as above, then one answer per event: the handler's own time (not the pipe's) and
  CPU time, its status code, the AWS calls it made (botocore's API calls, counted by this thread) and the wall
  time spent inside them.
- import: import the handler and exit (for `-X importtime`).
- profile: as warm, with cProfile on around the invocations after the first (the warm path only); the stats are
  written to the stats file at the end of input.
--shipped BUILD: the handlers as built for Lambda (bench/ingest.py shipped_build) instead of the source tree: ours
  from the built function and layer, the reference from its folder beside them.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = {
    # (task root, layer): the function's CodeUri first, then the layer (/opt/python on Lambda)
    "erphub": ([ROOT / "functions" / "webhook_ingest", ROOT / "layers" / "hub" / "python"], "app"),
    "reference": ([ROOT / "bench"], "ingest_reference"),
}
_calls: list[str] | None = None
_aws_seconds = 0.0  # wall time inside AWS calls during the current invocation (the embedded AWS's share)


class Context:
    """What the Python runtime hands a handler as `context`."""

    def __init__(self) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"))
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def count_aws_calls() -> None:
    """Record every AWS API call while `_calls` is a list (imports botocore: warm workers only)."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def counted(client, operation, params):  # type: ignore[no-untyped-def]
        global _aws_seconds
        if _calls is not None:
            _calls.append(f"{client.meta.service_model.service_name}:{operation}")
        started = time.perf_counter()
        try:
            return original(client, operation, params)
        finally:
            _aws_seconds += time.perf_counter() - started

    BaseClient._make_api_call = counted  # type: ignore[method-assign]


def shipped(build: Path) -> dict[str, tuple[list[Path], str]]:
    """The handlers' folders in a build of tools/artifact.py (the function's /var/task, then the layer's python/)."""
    return {"erphub": ([build / "WebhookIngestFunction", build / "HubLayer" / "python"], "app"),
            "reference": ([build.parent / "bench-reference"], "ingest_reference")}


def import_handler(kind: str):  # type: ignore[no-untyped-def]
    paths, module = HANDLERS[kind]
    sys.path[:0] = [str(p) for p in paths]
    return __import__(module).lambda_handler


def invoke(handler, event: dict) -> tuple[float, float, int, list[str], float]:  # type: ignore[no-untyped-def]
    """(wall, this process's CPU, status code, AWS calls, wall time inside them) of one invocation."""
    global _calls, _aws_seconds
    _calls, _aws_seconds = [], 0.0
    started, started_cpu = time.perf_counter(), time.process_time()
    response = handler(event, Context())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    calls, _calls = _calls, None
    return elapsed, cpu, response["statusCode"], calls, _aws_seconds


def main() -> None:
    if "--shipped" in sys.argv:
        at = sys.argv.index("--shipped")
        HANDLERS.update(shipped(Path(sys.argv[at + 1])))
        del sys.argv[at:at + 2]
    kind, mode = sys.argv[1], sys.argv[2]
    if mode == "import":
        import_handler(kind)
        return
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if mode in ("warm", "profile"):
        count_aws_calls()
    event = json.loads(sys.stdin.readline())
    started, started_cpu = time.perf_counter(), time.process_time()
    handler = import_handler(kind)
    imported, imported_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    first, _, status, calls, _ = invoke(handler, event)
    cpu = time.process_time() - started_cpu  # this process's CPU: what the shared machine's load does not inflate
    answers.write(json.dumps({"import": imported, "first": first, "import_cpu": imported_cpu, "cpu": cpu,
                              "status": status, "calls": calls}) + "\n")
    if mode == "cold":
        return
    profile = None
    if mode == "profile":
        import cProfile

        profile = cProfile.Profile()
    for line in sys.stdin:
        event = json.loads(line)
        if profile is not None:
            profile.enable()
        elapsed, cpu, status, calls, aws_seconds = invoke(handler, event)
        if profile is not None:
            profile.disable()
        answers.write(json.dumps({"elapsed": elapsed, "cpu": cpu, "status": status, "calls": calls,
                                  "aws": aws_seconds}) + "\n")
    if profile is not None:
        profile.dump_stats(sys.argv[3])


if __name__ == "__main__":
    main()
