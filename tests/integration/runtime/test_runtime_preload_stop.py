"""A stack stopped right after its start leaves no thread importing handlers: the interpreter exiting while one
was still importing aborted the process with SIGABRT ("FATAL: exception not rethrown") in 7 of 60 starts and
stops. Fresh interpreters, so the handlers' modules are really imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = Path(__file__).resolve().parent / "app" / "template.yaml"
SCRIPT = f"""
import threading, time
from local import functions
from local.stack import HubStack

handler = functions.Function.handler
def slow_import(fn):  # every handler takes 0.2 s to import: the preload is surely under way at the stop
    if fn._handler is None:
        time.sleep(0.2)
    return handler(fn)
functions.Function.handler = slow_import

stack = HubStack({str(TEMPLATE)!r}, sandbox=False)
stack.start()
stack.stop()
imported = sum(fn._handler is not None for fn in stack.functions.by_id.values())
print(imported, len(stack.functions.by_id), [t.name for t in threading.enumerate() if t.name == "preload-handlers"])
"""


def test_stopping_right_after_the_start_waits_for_the_handlers_import_under_way():
    # Given a stack in a fresh interpreter whose handlers each take 0.2 s to import, stopped as soon as it is up
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "hub" / "python")])}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    # Then the stop ended the preload (not every handler was imported) and waited for it: no preload thread is left
    assert done.returncode == 0, done.stderr[-3000:]
    imported, functions, threads = done.stdout.strip().splitlines()[-1].split(" ", 2)
    assert threads == "[]" and int(imported) < int(functions)
