"""A user's mistakes in the CLI get one line on stderr and a non-zero exit code, never a traceback (issue 16.8).
The CLI runs as a user runs it: a separate process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "events" / "stripe" / "invoice.paid.json"


def erphub(*args: str, cwd: Path, stdout=subprocess.PIPE, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**(env if env is not None else os.environ), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "local.cli", *args], cwd=cwd, env=environment, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def one_line_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_a_missing_file_is_one_line(tmp_path):
    result = erphub("send", "stripe", str(tmp_path / "nope.json"), "--gateway", "http://127.0.0.1:9", cwd=tmp_path)
    one_line_error(result, "no such file")
    assert result.returncode == 2


def test_an_unknown_source_is_one_line_naming_the_known_ones(tmp_path):
    result = erphub("send", "quickbooks", str(SAMPLE), "--gateway", "http://127.0.0.1:9", cwd=tmp_path)
    one_line_error(result, "unknown source 'quickbooks'")
    assert "stripe" in result.stderr


def test_no_running_stack_is_one_line(tmp_path):
    # Given no `erphub up` in this directory
    for command in (["status"], ["send", "stripe", str(SAMPLE)], ):
        one_line_error(erphub(*command, cwd=tmp_path), "no running stack")


def test_an_unreachable_endpoint_is_one_line(tmp_path):
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}
    one_line_error(erphub("status", "--endpoint", "http://127.0.0.1:9", cwd=tmp_path, env=env), "Could not connect")


def test_a_missing_template_is_one_line(tmp_path):
    one_line_error(erphub("up", "--template", str(tmp_path / "none.yaml"), "--port", "0", cwd=tmp_path),
                   "none.yaml")


def test_status_into_a_closed_pipe_is_one_line(stack, tmp_path):
    # Given a reader that has already gone, as `erphub status | head -0` leaves it
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = erphub("status", "--endpoint", stack.aws.url, cwd=tmp_path, stdout=writer)
    finally:
        os.close(writer)
    # Then one line says so, and the exit code is not 0
    one_line_error(result, "broken pipe")


def test_smoke_without_aws_credentials_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none"),
                "AWS_EC2_METADATA_DISABLED": "true"})
    result = erphub("smoke", "--stack", "erphub-dev", "--region", "eu-west-1", cwd=tmp_path, env=env)
    one_line_error(result, "no AWS credentials")
    assert result.returncode == 2
