"""erphub.settings: everything a function reads from its environment, parsed once; each hosted function its own."""

import threading

import pytest

from erphub import aws
from erphub.settings import Settings, get_settings, invocation_settings, use_settings

pytestmark = pytest.mark.unit


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
    assert "very-secret" not in repr(settings) and "very-secret" not in settings.model_dump_json()


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
    with pytest.raises(ValueError, match="inbox_ttl_days"):
        Settings.from_env()


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
