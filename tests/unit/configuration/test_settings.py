"""erphub.settings: everything a function reads from its environment, parsed once; each hosted function its own."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from erphub import aws
from erphub.settings import Settings, SettingsError, get_settings, invocation_settings, use_settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def test_variables_and_families_are_read_from_the_environment_given():
    # Given a function's environment as Lambda sets it
    env = {"INBOX_TABLE": "inbox", "RETRY_DELAY_SECONDS": "3", "USAGE_LATE_CUTOFF_HOURS": "48",
           "STATE_MACHINE_ACTIVATION": "arn:sm:activation", "STATE_MACHINE_EMPTY": "",
           "NETSUITE_BASE_URL": "http://erp", "AWS_SECRET_ACCESS_KEY": "very-secret"}
    # When it is parsed
    settings = Settings.from_env(env)
    # Then each variable lands in its typed field, the families are collected, and nothing of the credentials prints
    assert (settings.inbox_table, settings.retry_delay_seconds, settings.usage_late_cutoff_hours) == ("inbox", 3, 48)
    assert settings.state_machine_arns == {"activation": "arn:sm:activation"}
    assert settings.environment["NETSUITE_BASE_URL"] == "http://erp"
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings.aws_secret_access_key)
    assert settings.aws_secret_access_key is not None
    assert settings.aws_secret_access_key.get_secret_value() == "very-secret"


def test_an_explicit_environment_ignores_the_process_environment(monkeypatch):
    monkeypatch.setenv("INBOX_TABLE", "from-the-process")
    assert Settings.from_env({}).inbox_table == ""
    assert Settings.from_env({"INBOX_TABLE": "mine"}).inbox_table == "mine"


def test_a_variable_sets_its_field_whatever_its_case_and_a_family_is_never_one_variable():
    settings = Settings.from_env({"inbox_table": "lower", "Raw_Bucket": "mixed", "ENVIRONMENT": "prod",
                                  "STATE_MACHINE_ARNS": "not-json", "STATE_MACHINE_RENEWAL": "arn:sm:renewal"})
    assert (settings.inbox_table, settings.raw_bucket) == ("lower", "mixed")
    assert settings.state_machine_arns == {"arns": "not-json", "renewal": "arn:sm:renewal"}
    assert settings.environment["ENVIRONMENT"] == "prod"


def test_the_process_settings_are_parsed_once_and_a_bad_value_is_refused(monkeypatch):
    with use_settings(None):
        assert get_settings() is get_settings()
    monkeypatch.setenv("INBOX_TTL_DAYS", "3")  # under the 7-day floor
    with pytest.raises(SettingsError, match="inbox_ttl_days"):
        Settings.from_env()


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("SECRETS_MAX_AGE_SECONDS", "-1", "at least 0"), ("INBOX_TTL_DAYS", "6", "at least 7"),
    ("RETRY_DELAY_SECONDS", "-5", "at least 0"), ("USAGE_LATE_CUTOFF_HOURS", "-1", "at least 0"),
    ("RECONCILE_BUDGET", "0", "at least 1"), ("MAX_BODY_BYTES", "1MB", "not a whole number"),
    ("inbox_ttl_days", "", "not a whole number")])
def test_a_value_a_field_cannot_take_is_refused_naming_the_variable(variable, value, problem):
    with pytest.raises(ValueError, match=f"{variable.lower()} \\({variable.upper()}\\) .*{problem}"):
        Settings.from_env({variable: value})


def test_the_floors_are_inclusive_and_numbers_are_parsed():
    settings = Settings.from_env({"INBOX_TTL_DAYS": "7", "RECONCILE_BUDGET": "1", "RETRY_DELAY_SECONDS": "0",
                                  "MAX_BODY_BYTES": " 2048 "})
    assert (settings.inbox_ttl_days, settings.reconcile_budget, settings.retry_delay_seconds,
            settings.max_body_bytes) == (7, 1, 0, 2048)


def test_importing_the_settings_imports_no_pydantic():
    # Given a fresh interpreter with only the layer on its path (every function imports erphub.settings)
    script = "import sys, erphub.settings; print(sorted(m for m in sys.modules if m.startswith('pydantic')))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "hub" / "python")}
    # When it imports the settings
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    # Then no pydantic module came with them (~51-57 ms of a cold start)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]"]


def test_each_invocation_sees_its_own_functions_settings_on_its_own_thread():
    # Given two hosted functions with different settings, invoked at once on many threads
    a, b = Settings.from_env({"INBOX_TABLE": "a"}), Settings.from_env({"INBOX_TABLE": "b"})
    seen: dict[str, set[str]] = {"a": set(), "b": set()}
    barrier = threading.Barrier(8)

    def invoke(name: str, settings: Settings) -> None:
        with invocation_settings(settings):
            barrier.wait()
            for _ in range(200):
                seen[name].add(get_settings().inbox_table)

    threads = [threading.Thread(target=invoke, args=pair) for pair in [("a", a), ("b", b)] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each only ever saw its own, and outside an invocation the process's settings answer
    assert seen == {"a": {"a"}, "b": {"b"}}
    assert get_settings() not in (a, b)


def test_what_is_built_from_a_configuration_is_built_once_and_lives_with_it():
    a, b = Settings.from_env({"AWS_REGION": "eu-west-1"}), Settings.from_env({"AWS_REGION": "us-east-2"})
    with invocation_settings(a):
        first = aws.client("sqs")
        assert aws.client("sqs") is first and first.meta.region_name == "eu-west-1"
    with invocation_settings(b):
        assert aws.client("sqs") is not first and aws.client("sqs").meta.region_name == "us-east-2"
    built = []
    assert a.resource("k", lambda: built.append(1) or "v") == "v" == a.resource("k", lambda: built.append(2))
    assert built == [1]
