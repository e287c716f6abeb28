"""`erphub up` as a user runs it: a separate process, ready within seconds, fed with `erphub send`,
inspected with `erphub status`, stopped with Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ERPHUB = [sys.executable, "-m", "local.cli"]


def _run(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*ERPHUB, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def running_stack(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "up.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen([*ERPHUB, "up", "--template", str(ROOT / "template.yaml")], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    endpoints_file = tmp_path / ".erphub" / "endpoints.json"
    try:
        while not endpoints_file.exists():
            assert process.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() - started < 30, "erphub up did not become ready"
            time.sleep(0.1)
        ready = time.monotonic() - started
        yield tmp_path, json.loads(endpoints_file.read_text()), ready, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def test_up_serves_the_template_and_send_and_status_work(running_stack):
    workdir, endpoints, ready, _ = running_stack
    # Given `erphub up` is running (ready within 10 s even on a busy 2-core CI machine, with margin)
    assert ready < 20
    assert any("/webhooks/{source}" in route for route in endpoints["routes"])
    sample = str(ROOT / "events" / "stripe" / "invoice.paid.json")
    # When a user sends a vendor sample twice
    first = _run(["send", "stripe", sample], workdir)
    again = _run(["send", "stripe", sample], workdir)
    # Then the first is accepted and the second is a duplicate
    assert first.returncode == 0, first.stderr
    assert "202" in first.stdout and '"accepted"' in first.stdout
    assert '"duplicate"' in again.stdout
    # And a forged request straight to the printed endpoint is refused
    forged = requests.post(f"{endpoints['gateway']}/webhooks/stripe", data=b"{}",
                           headers={"Stripe-Signature": "t=1,v1=00"}, timeout=10)
    assert forged.status_code == 401
    # And status shows the stored event and the queues
    status = _run(["status"], workdir)
    assert status.returncode == 0, status.stderr
    assert "inbox" in status.stdout.lower()
    assert "erp-posting" in status.stdout


def test_ctrl_c_stops_cleanly(running_stack):
    workdir, _, _, process = running_stack
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    assert not (workdir / ".erphub" / "endpoints.json").exists()
    # And it says whether the functions made calls their template policies do not allow
    assert re.search(r"IAM audit: \d+ calls checked, 0 not allowed by the template", (workdir / "up.log").read_text())
