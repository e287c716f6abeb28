"""The vendor sandbox takes a burst of connections however slowly its process accepts them: the kernel completes
each handshake into the listen backlog, as a vendor's front door does (it does not drop connections at six)."""

from __future__ import annotations

import contextlib
import socket

from local.sandbox.server import Sandbox

BURST = 200


def test_a_burst_of_connections_is_taken_before_the_sandbox_accepts_any():
    sandbox = Sandbox([], "127.0.0.1", 0)  # bound and listening, not yet accepting (start() is not called)
    opened: list[socket.socket] = []
    try:
        with contextlib.ExitStack() as stack:
            for _ in range(BURST):
                # a dropped connection would wait for the SYN retry (1 s) and time out here
                opened.append(stack.enter_context(socket.create_connection((sandbox.host, sandbox.port), timeout=0.5)))
            assert len(opened) == BURST
    finally:
        sandbox._server.server_close()
