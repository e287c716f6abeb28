"""One threaded HTTP server on loopback serving every vendor under its own path prefix, and /_sandbox/ to
steer it from another process (faults, limits, records, reset)."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from local.sandbox import contracts
from local.sandbox.core import Fault, Faults, Gate, Request, Response, Vendor


class Sandbox:
    def __init__(self, vendors: list[Vendor], host: str, port: int) -> None:
        self.vendors = {v.name: v for v in vendors}
        self.faults = Faults()
        self.gate = Gate()
        self.violations: list[str] = []  # contract violations the sandbox refused, for tests to assert on
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self.host, self.port = host, self._server.server_address[1]
        for vendor in vendors:
            vendor.base_url = self.base_url(vendor.name)
        self._thread = threading.Thread(target=self._server.serve_forever, name="vendor-sandbox", daemon=True)

    # --- public API ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, vendor: str) -> str:
        return f"{self.url}/{vendor}"

    def credentials(self, vendor: str) -> dict[str, Any]:
        return dict(self.vendors[vendor].credentials())

    def limit_concurrency(self, vendor: str, n: int | None) -> None:
        if n is None:
            self.gate.limits.pop(vendor, None)
        else:
            self.gate.limits[vendor] = n

    def max_in_flight(self, vendor: str) -> int:
        return self.gate.max_in_flight.get(vendor, 0)

    def refused(self, vendor: str) -> int:
        return self.gate.refused.get(vendor, 0)

    def admitted(self, vendor: str) -> int:
        """Requests the vendor took in (not refused at its door)."""
        return self.gate.admitted.get(vendor, 0)

    def occupancy(self, vendor: str) -> dict[str, float] | None:
        return self.gate.occupancy(vendor)

    def records(self, vendor: str, kind: str) -> list[dict[str, Any]]:
        target = self.vendors[vendor]
        with target.lock:
            return copy.deepcopy(list(target.table(kind).values()))

    def seed(self, vendor: str, kind: str, record: dict[str, Any]) -> str:
        """Put a record straight into a vendor's store (e.g. a CRM opportunity a workflow will read)."""
        target = self.vendors[vendor]
        with target.lock:
            return target.seed(kind, dict(record))

    def stats(self) -> dict[str, Any]:
        gate = self.gate
        return {"max_in_flight": dict(gate.max_in_flight), "refused": dict(gate.refused), "limits": dict(gate.limits),
                "admitted": dict(gate.admitted), "occupancy": {v: gate.occupancy(v) for v in list(gate.admitted)}}

    def reset(self) -> None:
        self.faults.clear()
        self.gate.limits.clear()
        self.gate.reset()
        self.violations.clear()
        for vendor in self.vendors.values():
            vendor.reset()

    def start(self) -> Sandbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.faults.clear()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving -------------------------------------------------------------------------------------
    def serve(self, vendor: Vendor, request: Request) -> Response | None:
        """The response to send, or None to hang up without one (a timeout the client sees)."""
        if not self.gate.enter(vendor.name):
            return vendor.concurrency_refused()
        try:
            refusal = vendor.authenticate(request)
            if refusal is not None:
                return refusal
            refusal = self._check_contract(vendor, request)
            if refusal is not None:
                return refusal
            routed = vendor.route(request)
            if routed is None:
                return vendor.not_found(request)
            operation, handler = routed
            early = self._fault(vendor, operation, after_commit=False)
            if early is not False:
                return early
            response = handler(request)
            late = self._fault(vendor, operation, after_commit=True)
            return response if late is False else late
        finally:
            self.gate.leave(vendor.name)

    def _check_contract(self, vendor: Vendor, request: Request) -> Response | None:
        """The vendor refuses a request its published API does not describe (unknown field, wrong type, ...)."""
        _, problems = contracts.load(vendor.name).check(request.method, request.path, request.query, request.body,
                                                        request.headers)
        if not problems:
            return None
        self.violations += [f"{vendor.name} {request.method} {request.path}: {p}" for p in problems]
        return vendor.contract_refusal(request, problems)

    def _fault(self, vendor: Vendor, operation: str, *, after_commit: bool) -> Response | Literal[False] | None:
        fault: Fault | None = self.faults.take(vendor.name, operation, after_commit)
        if fault is None:
            return False
        if fault.kind == "latency":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "timeout":
            self.faults.release.wait(fault.seconds)
            return None
        if fault.kind == "429":
            return vendor.rate_limited(fault.retry_after)
        return vendor.server_error(int(fault.kind))

    def control(self, method: str, parts: list[str], body: Any) -> Response:
        """/_sandbox/faults, /_sandbox/limits, /_sandbox/records/<vendor>/<kind>, /_sandbox/reset, ..."""
        what = parts[0] if parts else ""
        if what == "faults" and method == "POST":
            fault = self.faults.inject(**body)
            return Response(201, fault.__dict__)
        if what == "faults" and method == "DELETE":
            self.faults.clear()
            return Response(204)
        if what == "limits" and method == "POST":
            self.limit_concurrency(body["vendor"], body.get("n"))
            return Response(200, self.stats())
        if what == "records" and len(parts) == 3 and method == "GET":
            return Response(200, self.records(parts[1], parts[2]))
        if what == "records" and len(parts) == 3 and method == "POST":
            return Response(201, {"id": self.seed(parts[1], parts[2], body)})
        if what == "credentials" and len(parts) == 2:
            return Response(200, {"base_url": self.base_url(parts[1]), **self.credentials(parts[1])})
        if what == "stats":
            return Response(200, self.stats())
        if what == "reset" and method == "POST":
            self.reset()
            return Response(204)
        return Response(404, {"error": f"unknown control {method} /_sandbox/{'/'.join(parts)}"})


class _Server(ThreadingHTTPServer):
    # A vendor's front door takes a burst of connections: the socketserver default (a listen backlog of 5) made the
    # kernel drop connections while the busy process was slow to accept them, so 200 concurrent activations saw
    # connect timeouts and resets from the "vendor" (more than a real vendor API gives at that load).
    request_queue_size = 1024

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._open: set[Any] = set()  # connections being served: kept alive between requests (HTTP/1.1)
        self._open_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_connections(self) -> None:
        """A stopped vendor closes the connections clients keep alive (their threads would serve on)."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Vendors' APIs keep connections alive (HTTP/1.1), and connectors reuse them (a requests.Session per
        # client). Nagle's algorithm off: the headers and the body go out as two writes, and the body must not
        # wait for the ACK of the headers (the client delays it ~40 ms).
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _handle(self) -> None:
            split = urlsplit(self.path)
            prefix, _, rest = split.path.lstrip("/").partition("/")
            if "Transfer-Encoding" in self.headers:  # a chunked body is not read: the connection cannot be reused
                self.close_connection = True
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if prefix == "_sandbox":
                try:
                    payload = json.loads(body or b"{}")
                    response = sandbox.control(self.command, [p for p in rest.split("/") if p], payload)
                except (TypeError, ValueError, KeyError) as exc:
                    response = Response(400, {"error": str(exc)})
                self._send(response)
                return
            vendor = sandbox.vendors.get(prefix)
            if vendor is None:
                self._send(Response(404, {"error": f"no vendor {prefix!r} in the sandbox"}))
                return
            request = Request(
                method=self.command, path="/" + rest, query=parse_qsl(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                url=f"http://{self.headers.get('Host', f'{sandbox.host}:{sandbox.port}')}{self.path}")
            served = sandbox.serve(vendor, request)
            if served is None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)
                return
            self._send(served)

        def _send(self, response: Response) -> None:
            payload = response.payload()
            with contextlib.suppress(OSError):
                self.send_response(response.status)
                if payload:
                    self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler
