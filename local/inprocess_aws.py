"""AWS calls made inside the local stack's process reach the embedded moto without HTTP.

Over loopback every boto3 call paid for urllib3, a new TCP connection (werkzeug's server closes each one),
a new server thread, HTTP parsing on both sides and moto's WSGI app; only the last does any work (issue 13:
~4 round trips per event, a ceiling of ~40 events/s). Here a botocore request whose URL is the embedded
endpoint is handed to the same kind of WSGI application the server runs (moto's `DomainDispatcherApplication`)
on the caller's thread, with the environ werkzeug's server (and moto's request handler) would have built from
the bytes urllib3 would have sent, and the answer comes back as the `AWSResponse` botocore would have built
from the socket: status, headers merged as urllib3 merges them, the server's own headers, and the body as a
readable stream (streaming outputs, checksum validation and error parsing work on it unchanged).

The hook is botocore's `before-send` event: a handler that returns a response makes botocore skip sending.
It is added to `botocore.handlers.BUILTIN_HANDLERS`, which every botocore session created afterwards
registers (moto's own `mock_aws` hooks in the same way), and to boto3's default session if one exists.
Clients created before the stack started, and other processes (the `erphub` CLI, the browser console,
subprocess tests), keep using HTTP: the server stays up. A long poll (SQS WaitTimeSeconds) waits on the
caller's thread and holds no lock here. moto-internal pieces used (pinned moto==5.2.5):
tests/integration/runtime/test_runtime_inprocess_aws_guard.py fails loudly if they change.
"""

from __future__ import annotations

import email.utils
import io
import logging
import sys
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from local import inprocess_dispatch

EVENT = "before-send"
UNIQUE_ID = "erphub-inprocess-aws"
ANSWER = "_erphub_inprocess_answer"
SERVER_SOFTWARE = "Werkzeug (erphub in-process)"
_log = logging.getLogger(__name__)
_active: InProcessAws | None = None  # one stack per process (moto's state is global)
_lock = threading.Lock()


class _Body(io.BytesIO):
    """The response body as botocore reads a urllib3 response: read(amt), stream(), close()."""

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterable[bytes]:
        while chunk := self.read(amt):
            yield chunk


class InProcessAws:
    """Answers the requests addressed to one embedded endpoint by calling its WSGI application."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        # moto's Step Functions interpreter calls http://localhost:$MOTO_PORT, everything else 127.0.0.1
        self.prefixes = (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/")
        self.answered = 0  # requests answered in-process (a figure for tests and benches; races lose counts only)
        self.direct = True  # moto's handlers called without Flask where Flask would only route to them

    def handles(self, url: str) -> bool:
        return url.startswith(self.prefixes)

    def answer(self, request: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import HTTPClientError

        try:
            environ = self.environ(request)
        except Exception as exc:  # what urllib3 could not have sent: botocore wraps it the same way
            raise HTTPClientError(error=exc) from exc
        status, headers, body = self.call(environ)
        self.answered += 1
        return AWSResponse(request.url, status, _merged(headers), _Body(body))

    def environ(self, request: Any) -> dict[str, Any]:
        """What werkzeug's WSGIRequestHandler + moto's MotoRequestHandler build from the request on the wire."""
        parts = urlsplit(request.url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        body = _body_bytes(request.body)
        environ = _base_environ(request.method, target, parts.netloc, self.port, body)
        _add_headers(environ, _wire_headers(request.headers, parts.netloc))
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            environ["wsgi.input_terminated"] = True  # the server de-chunks and reads to the end
        return environ

    def call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Run the WSGI app as werkzeug's server does; an exception before the response is a plain 500."""
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return chunks.append

        try:
            routes = getattr(self.app, "get_application", None)  # moto's dispatcher: the service's Flask app
            app = routes(environ) if routes is not None else self.app
            direct = inprocess_dispatch.handler(app, environ) if routes is not None and self.direct else None
            if direct is not None:  # moto's handler without Flask around it (local/inprocess_dispatch.py)
                code, headers, body = inprocess_dispatch.answer(app, *direct)
                return code, _server_headers(environ, code, headers), body
            result = app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            _log.exception("the embedded AWS failed on %s %s", environ["REQUEST_METHOD"], environ["RAW_URI"])
            return _internal_server_error()
        status, headers = started
        code = int(status.split(None, 1)[0])
        return code, _server_headers(environ, code, headers), b"".join(chunks)


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")  # botocore's AWSPreparedRequest.body is bytes; urllib3 encodes str so
    return body.read() or b""  # a file-like body (S3 PutObject from a file, aws-chunked wrappers)


def _base_environ(method: str, target: str, netloc: str, port: int, body: bytes) -> dict[str, Any]:
    request_url = urlsplit(target)
    # werkzeug: a target starting "//" parses as a netloc; it puts it back into the path
    path = f"/{request_url.netloc}{request_url.path}" if request_url.netloc else request_url.path
    return {
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "SERVER_SOFTWARE": SERVER_SOFTWARE, "REQUEST_METHOD": method, "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi(unquote(path)), "QUERY_STRING": _wsgi(request_url.query),
        "REQUEST_URI": _wsgi(target), "RAW_URI": _wsgi(target), "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": 0,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(port), "SERVER_PROTOCOL": "HTTP/1.1",
    }


def _wsgi(text: str) -> str:
    """PEP 3333's native string: UTF-8 bytes read as latin-1 (werkzeug's _wsgi_encoding_dance)."""
    return text.encode("utf-8").decode("latin-1")


def _wire_headers(headers: Any, netloc: str) -> list[tuple[str, str]]:
    """The header lines urllib3/http.client put on the wire: latin-1 text, plus Host and Accept-Encoding."""
    lines = [(str(name), value.decode("latin-1") if isinstance(value, bytes) else str(value))
             for name, value in headers.items()]
    for name, _ in lines:
        name.encode("latin-1")
    for _, value in lines:
        value.encode("latin-1")  # http.client refuses what latin-1 cannot carry: so do we (HTTPClientError)
    names = {name.lower() for name, _ in lines}
    if "host" not in names:
        lines.insert(0, ("Host", netloc))
    if "accept-encoding" not in names:
        lines.insert(1, ("Accept-Encoding", "identity"))
    return lines


def _add_headers(environ: dict[str, Any], lines: list[tuple[str, str]]) -> None:
    """werkzeug drops names with "_" (spoofing); moto's handler puts back S3 metadata names that have one."""
    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )

    for name, value in lines:
        if "_" in name:
            continue
        key = environ_key_for_header(name)
        value = value.replace("\r\n", "")
        if key.startswith("HTTP_") and key in environ:
            value = f"{environ[key]},{value}"
        environ[key] = value
    dashed = {environ_key_for_header(name) for name, _ in lines if "_" not in name}
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for name, value in lines:
        key = environ_key_for_header(name)
        if should_preserve_original_header_name(name) and key not in dashed:
            names.setdefault(key, name)
            values.setdefault(key, []).append(value.replace("\r\n", ""))
    for key, key_values in values.items():
        environ[key] = ",".join(key_values)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names


def _server_headers(environ: dict[str, Any], code: int, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers werkzeug's server adds to the app's: Server, Date, chunked framing, Connection: close."""
    keys = {name.lower() for name, _ in headers}
    added = [("Server", SERVER_SOFTWARE), ("Date", email.utils.formatdate(usegmt=True))]
    chunked = not ("content-length" in keys or environ["REQUEST_METHOD"] == "HEAD"
                   or 100 <= code < 200 or code in (204, 304))
    return added + list(headers) + ([("Transfer-Encoding", "chunked")] if chunked else []) + [("Connection", "close")]


def _merged(headers: list[tuple[str, str]]) -> dict[str, str]:
    """urllib3 joins repeated header lines with ", " (HTTPHeaderDict); botocore sees one value per name."""
    merged: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in spelled:
            merged[spelled[key]] += ", " + value
        else:
            spelled[key] = name
            merged[name] = value
    return merged


def _internal_server_error() -> tuple[int, list[tuple[str, str]], bytes]:
    from werkzeug.exceptions import InternalServerError

    response = InternalServerError().get_response()
    return response.status_code, list(response.headers.items()), response.get_data()


def _before_send(request: Any, **_: Any) -> Any:
    """botocore's before-send handler: an answer for the embedded endpoint, None (send it) for anything else."""
    answered = getattr(request, ANSWER, None)
    if answered is not None:  # registered twice on one session (builtin and default session): answer once
        return answered
    active = _active
    if active is None or not active.handles(request.url):
        return None
    response = active.answer(request)
    setattr(request, ANSWER, response)  # botocore makes a new request for each attempt
    return response


def install(app: Any, port: int) -> InProcessAws:
    """Answer in-process, from now on, the calls of every botocore session created from now on."""
    global _active
    from botocore.handlers import BUILTIN_HANDLERS

    inprocess_dispatch.check_compatible()
    with _lock:
        _active = InProcessAws(app, port)
        if (EVENT, _before_send) not in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.append((EVENT, _before_send))
        _register_on_default_session()
        return _active


def _register_on_default_session() -> None:
    """boto3.client(...) uses one default session, often created before the stack (moto's interpreter uses it)."""
    import boto3

    session = boto3.DEFAULT_SESSION
    if session is not None:
        session._session.register(EVENT, _before_send, unique_id=UNIQUE_ID)


def uninstall() -> None:
    """Stop answering: sessions that registered the handler keep it, and it sends everything over HTTP again."""
    global _active
    from botocore.handlers import BUILTIN_HANDLERS

    with _lock:
        _active = None
        while (EVENT, _before_send) in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.remove((EVENT, _before_send))


def active() -> InProcessAws | None:
    return _active
