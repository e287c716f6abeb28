"""Issue 11.4: `erphub up --state DIR` keeps the inbox, the other tables and the sandbox's records across a
Ctrl-C and a restart, and after a crash (kill -9) says what it could not restore."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from local.sandbox.stripe import Stripe

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "events" / "stripe" / "invoice.paid.json"


class Up:
    """One `erphub up --state DIR` process in a working directory, its output in a log file."""

    def __init__(self, workdir: Path, state: Path, name: str) -> None:
        self.workdir, self.log = workdir, workdir / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local.cli", "up", "--template", str(ROOT / "template.yaml"), "--port", "0",
                 "--state", str(state)], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
        endpoints = workdir / ".erphub" / "endpoints.json"
        deadline = time.monotonic() + 60
        while not endpoints.exists() or "State:" not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, "erphub up did not become ready"
            time.sleep(0.1)
        self.endpoints = json.loads(endpoints.read_text())

    def output(self) -> str:
        return self.log.read_text()

    def send(self) -> str:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "local.cli", "send", "stripe", str(SAMPLE)], cwd=self.workdir,
                              env=env, capture_output=True, text=True, timeout=60)
        return done.stdout

    def stripe(self, method: str, path: str, **kwargs) -> requests.Response:
        key = Stripe().credentials()["api_key"]
        return requests.request(method, f"{self.endpoints['sandbox']}/stripe/v1/{path}", timeout=10,
                                headers={"Authorization": f"Bearer {key}"}, **kwargs)

    def kept_customers(self) -> list[str]:
        """Ids of the sandbox's Stripe customers tagged by this test (found as the connector finds them)."""
        found = self.stripe("GET", "customers/search", params={"query": "metadata['test']:'state'"})
        return [c["id"] for c in found.json()["data"]]

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)


@pytest.fixture
def place(tmp_path):
    running: list[Up] = []

    def up(name: str) -> Up:
        running.append(Up(tmp_path, tmp_path / "state", name))
        return running[-1]

    yield up, tmp_path / "state"
    for stack in running:
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait(timeout=10)


def test_state_survives_a_ctrl_c_and_a_crash_is_reported(place):
    up, state = place
    # Given a stack keeping its state, which says so at start
    first = up("first")
    assert f"State: kept in {state}" in first.output()
    # When a webhook is accepted and a customer is created in the vendor sandbox, and the user presses Ctrl-C
    assert '"accepted"' in first.send()
    customer = first.stripe("POST", "customers", data={"email": "ops@keep.example", "name": "Kept Co",
                                                       "metadata[test]": "state"}).json()
    assert first.kept_customers() == [customer["id"]]
    assert first.stop() == 0
    assert "saved to" in first.output()
    # Then after a restart with the same directory, the stop is reported clean, the event is still in the
    # inbox (a redelivery is a duplicate) and the sandbox still has the customer
    second = up("second")
    assert "the last run stopped cleanly" in second.output()
    assert "restored:" in second.output()
    assert '"duplicate"' in second.send()
    assert second.kept_customers() == [customer["id"]]

    # Given a message waiting in a queue, once a snapshot has seen it
    sqs = boto3.client("sqs", endpoint_url=second.endpoints["aws"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    sqs.send_message(QueueUrl=second.endpoints["resources"]["RuleDeliveryDLQ"]["Ref"], MessageBody="{}")
    deadline = time.monotonic() + 30
    while "RuleDeliveryDLQ" not in json.loads((state / "state.json").read_text()).get("queued", {}):
        assert time.monotonic() < deadline, "no snapshot saw the queued message"
        time.sleep(0.5)
    # When the stack is killed (no chance to save) and started again
    second.stop(signal.SIGKILL)
    third = up("third")
    # Then it says the last run did not stop cleanly, what it restored, and what it could not
    report = third.output()
    assert "did not stop cleanly" in report
    # (other queues may be listed too: a scheduled job's message still in flight when the snapshot was taken)
    assert re.search(r"not restored: queued SQS messages [^\n]*\bRuleDeliveryDLQ: 1\b", report), report
    assert '"duplicate"' in third.send()
    assert third.kept_customers() == [customer["id"]]
    assert third.stop() == 0


def test_without_state_it_says_everything_is_in_memory(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "local.cli", "up", "--template", str(ROOT / "template.yaml"),
                                    "--port", "0"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "State:" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert "State: in memory only" in log.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
