"""bench/aws_share.py: the CPU inside moto, each nested call once, our code that moto runs inside a call not at all."""

from __future__ import annotations

import threading
import time

import pytest
from bench.aws_share import AwsShare

pytestmark = pytest.mark.unit


def burn(seconds: float) -> None:
    """Spend `seconds` of this thread's CPU."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_call_nested_in_another_counts_once_and_our_code_inside_moto_not_at_all():
    share = AwsShare()
    # moto answering a call (20 ms) runs our function (50 ms), which makes another call (30 ms)
    inner_call = share.measured(lambda: burn(0.03), moto=True)
    function = share.measured(lambda: (burn(0.05), inner_call()), moto=False)
    outer_call = share.measured(lambda: (burn(0.02), function()), moto=True)
    outer_call()
    assert share.seconds == pytest.approx(0.05, abs=0.015)


def test_our_code_outside_moto_is_not_counted_and_threads_add_up():
    share = AwsShare()
    call = share.measured(lambda: burn(0.02), moto=True)
    function = share.measured(lambda: (burn(0.04), call()), moto=False)
    threads = [threading.Thread(target=function) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert share.seconds == pytest.approx(0.06, abs=0.02)
