"""How the sweeper reads the bus's answers (erphub.publishing._put_each), against an in-memory bus: refused for
good (skip and report), refused for now (leave for the next run), and a whole call refused for one entry."""

import json

import pytest
from botocore.exceptions import ClientError

from erphub import publishing

pytestmark = pytest.mark.unit


class FakeBus:
    def __init__(self, bad: set[str], call_error: str = "", entry_errors: dict[str, str] | None = None) -> None:
        self.bad, self.call_error, self.entry_errors, self.calls = bad, call_error, entry_errors or {}, 0

    def put_events(self, Entries):
        self.calls += 1
        ids = [json.loads(e["Detail"])["id"] for e in Entries]
        if self.call_error or self.bad & set(ids):
            code = self.call_error or "ValidationException"
            raise ClientError({"Error": {"Code": code, "Message": "refused"}}, "PutEvents")
        results = [{"ErrorCode": self.entry_errors[i], "ErrorMessage": "no"} if i in self.entry_errors
                   else {"EventId": i} for i in ids]
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def _chunk(*ids: str) -> list[tuple[str, dict]]:
    return [(i, {"Source": "erphub", "DetailType": "t", "Detail": json.dumps({"id": i})}) for i in ids]


@pytest.fixture
def bus(monkeypatch):
    def install(fake: FakeBus) -> FakeBus:
        monkeypatch.setattr(publishing.aws, "client", lambda service: fake)
        return fake

    return install


def test_a_call_refused_for_one_bad_entry_is_retried_entry_by_entry(bus):
    fake = bus(FakeBus(bad={"b"}))
    outcomes = publishing._put_each(_chunk("a", "b", "c"))
    assert outcomes == {"a": None, "b": "ValidationException: refused", "c": None} and fake.calls == 4


def test_a_throttled_call_leaves_every_entry_for_the_next_run_without_retrying_each(bus):
    fake = bus(FakeBus(bad=set(), call_error="ThrottlingException"))
    assert publishing._put_each(_chunk("a", "b")) == {"a": "", "b": ""} and fake.calls == 1


def test_entries_refused_for_now_wait_and_entries_refused_for_good_are_reported(bus):
    bus(FakeBus(bad=set(), entry_errors={"a": "ThrottlingException", "b": "MalformedDetail"}))
    assert publishing._put_each(_chunk("a", "b", "c")) == {"a": "", "b": "MalformedDetail: no", "c": None}


def test_calls_hold_at_most_ten_entries_and_256_kb():
    small = _chunk(*[str(n) for n in range(12)])
    assert [len(c) for c in publishing._calls(small)] == [10, 2]
    big = [(k, {**e, "Detail": "x" * 100_000}) for k, e in _chunk("a", "b", "c")]
    assert [len(c) for c in publishing._calls(big)] == [2, 1]
