"""The local API Gateway: every Api event of the template mounted on one threaded HTTP server, handing the
handler a REST API proxy event of the real shape and answering as API Gateway does."""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from http.client import responses
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from local.template import ACCOUNT_ID
from local.wiring import Route

STAGE = "Prod"  # the stage name of SAM's implicit API
# API Gateway's REST API quotas (https://docs.aws.amazon.com/apigateway/latest/developerguide/
# api-gateway-execution-service-limits-table.html): payload 10 MB; request line and header values 10240 bytes
# combined. Both are answered with the REQUEST_TOO_LARGE gateway response (413), before the integration runs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
MAX_REQUEST_LINE_AND_HEADERS_BYTES = 10240
_TOO_LARGE = {"message": "Request Too Long"}


class _Mounted:
    def __init__(self, route: Route) -> None:
        self.route = route
        pattern = re.sub(r"\\\{([^}]+)\\\+\\\}", lambda m: f"(?P<{m.group(1)}>.+)", re.escape(route.path))
        pattern = re.sub(r"\\\{([^}]+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}/?$")
        # API Gateway prefers literal paths, then {param}, then {proxy+}
        self.rank = (route.path.count("+}"), route.path.count("{"), -len(route.path))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        return found.groupdict() if found else None


class Gateway:
    def __init__(self, routes: list[Route], functions: Any, port: int = 0, authorize: Any = None,
                 api_keys: Any = None) -> None:
        self.authorize = authorize  # local/cognito_authorizer.py: the routes' Cognito authorizers
        self.api_keys = api_keys  # local.api_keys.ApiKeys: API keys and usage plans, as API Gateway checks them
        self.mounted = sorted((_Mounted(r) for r in routes), key=lambda m: m.rank)
        self.functions = functions
        self.port = port
        self.server: Any = None
        self.url = ""

    def start(self) -> str:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True, request_handler=_Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="local-gateway", daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- WSGI ---------------------------------------------------------------------------------------------
    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from werkzeug.wrappers import Request

        request = Request(environ)
        try:
            status, headers, body = self.handle(request)
        except Exception:  # the gateway itself failed: answer as API Gateway's DEFAULT_5XX, never a stack page
            logging.getLogger(__name__).exception("local gateway failed on %s %s", request.method, request.path)
            status, headers, body = gateway_response(500, {"message": "Internal server error"}, str(uuid.uuid4()))
        start_response(f"{status} {responses.get(status, 'Status')}", headers)
        return [body]

    def handle(self, request: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        request_id = str(uuid.uuid4())
        if (_request_line_and_headers_bytes(request) > MAX_REQUEST_LINE_AND_HEADERS_BYTES
                or (request.content_length or 0) > MAX_PAYLOAD_BYTES):
            _drain(request)
            status, headers, body = gateway_response(413, _TOO_LARGE, request_id)
            return status, [*headers, ("Connection", "close")], body
        route, parameters = self._find(request.method, request.path)
        if route is None:
            return gateway_response(403, {"message": "Missing Authentication Token"}, request_id)
        refused = self.api_keys.check(route, request.headers, request_id) if self.api_keys is not None else None
        if refused is not None:
            _drain(request)
            return refused
        raw = request.get_data(cache=False)
        if len(raw) > MAX_PAYLOAD_BYTES:  # a chunked body has no Content-Length to refuse it by
            return gateway_response(413, _TOO_LARGE, request_id)
        event = self._event(request, raw, route, parameters, request_id)
        if self.api_keys is not None:
            self.api_keys.identify(route, request.headers, event)
        if self.authorize is not None:
            from local.cognito_authorizer import Denied

            try:
                context = self.authorize(route, request.headers)
            except Denied:
                return gateway_response(401, {"message": "Unauthorized"}, request_id)
            if context is not None:
                event["requestContext"]["authorizer"] = context
        result = self.functions.invoke(route.function_id, event)
        if result.failed:
            return gateway_response(502, {"message": "Internal server error"}, request_id)
        return _response(result.payload, request_id)

    def _find(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for mounted in self.mounted:
            parameters = mounted.match(path)
            if parameters is not None and mounted.route.method in (method, "ANY"):
                return mounted.route, parameters
        return None, {}

    def _event(self, request: Any, raw: bytes, route: Route, parameters: dict[str, str],
               request_id: str) -> dict[str, Any]:
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            multi_headers.setdefault(name, []).append(value)
        # as API Gateway adds them; locally the scheme is plain http
        multi_headers.setdefault("X-Forwarded-For", [request.remote_addr or "127.0.0.1"])
        multi_headers.setdefault("X-Forwarded-Proto", [request.scheme])
        multi_headers.setdefault("X-Forwarded-Port", [str(request.host.rsplit(":", 1)[-1])])
        multi_query = {key: request.args.getlist(key) for key in request.args}
        body, is_base64 = _body(raw, request.headers.get("Content-Type", ""), route.binary_media_types)
        now = datetime.now(UTC)
        source_ip = request.headers.get("X-Forwarded-For", request.remote_addr or "127.0.0.1").split(",")[0].strip()
        return {
            "resource": route.path, "path": request.path, "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": parameters or None, "stageVariables": None,
            "requestContext": {
                "resourceId": "local", "resourcePath": route.path, "httpMethod": request.method,
                "extendedRequestId": request_id, "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                # the path as called: the local host has no stage prefix (like a custom domain)
                "path": request.path, "accountId": ACCOUNT_ID, "protocol": "HTTP/1.1", "stage": STAGE,
                "domainPrefix": "localhost", "requestTimeEpoch": int(time.time() * 1000), "requestId": request_id,
                "identity": {"cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None,
                             "caller": None, "sourceIp": source_ip, "principalOrgId": None, "accessKey": None,
                             "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None,
                             "userArn": None, "userAgent": request.headers.get("User-Agent"), "user": None},
                "domainName": request.host, "apiId": "local"},
            "body": body, "isBase64Encoded": is_base64,
        }


def _body(raw: bytes, content_type: str, binary_media_types: tuple[str, ...]) -> tuple[str | None, bool]:
    """As API Gateway hands it over: base64 when the media type is one of the API's BinaryMediaTypes."""
    if not raw:
        return None, False
    media = content_type.split(";")[0].strip()
    if any(fnmatch.fnmatch(media, pattern) for pattern in binary_media_types):
        return base64.b64encode(raw).decode(), True
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:  # API Gateway would mangle it; a local stack should not
        return base64.b64encode(raw).decode(), True


def _response(payload: Any, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return gateway_response(502, {"message": "Internal server error"}, request_id)
    headers: list[tuple[str, str]] = []
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    single = payload.get("headers") or {}
    headers.extend((k, str(v)) for k, v in single.items() if k not in (payload.get("multiValueHeaders") or {}))
    body = payload.get("body") or ""
    raw = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode()
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers += [("x-amzn-RequestId", request_id), ("Content-Length", str(len(raw)))]
    return int(payload["statusCode"]), headers, raw


def _drain(request: Any, limit: int = 8 * MAX_PAYLOAD_BYTES) -> None:
    """Read and drop a refused body, so a client still sending it reads the 413 instead of a reset."""
    stream, left = request.stream, limit
    while left > 0 and (chunk := stream.read(min(65536, left))):
        left -= len(chunk)


def _request_line_and_headers_bytes(request: Any) -> int:
    line = f"{request.method} {request.full_path.rstrip('?')} HTTP/1.1"
    return len(line.encode("latin-1", "replace")) + sum(len(v.encode("latin-1", "replace"))
                                                        for _, v in request.headers.items())


_ERROR_TYPES = {401: "UnauthorizedException", 403: "MissingAuthenticationTokenException",
                413: "RequestTooLargeException", 400: "BadRequestException", 429: "TooManyRequestsException"}


def gateway_response(status: int, body: dict[str, Any], request_id: str,
                     extra: Sequence[tuple[str, str]] = ()) -> tuple[int, list[tuple[str, str]], bytes]:
    """An answer of API Gateway itself (a gateway response), not of the integration."""
    raw = json.dumps(body).encode()
    error_type = _ERROR_TYPES.get(status, "InternalServerErrorException")
    return status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
                    ("x-amzn-ErrorType", error_type), ("Content-Length", str(len(raw))), *extra], raw


class _Handler(WSGIRequestHandler):
    """Requests the HTTP layer refuses before the gateway sees them (a header line over 64 KB, more than
    100 headers, a request line over 64 KB) get API Gateway's JSON answer, not http.server's HTML page:
    all of them are far over API Gateway's 10240-byte limit, so that answer is REQUEST_TOO_LARGE."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        status, body = (413, _TOO_LARGE) if code in (414, 431) else (code, {"message": message or "Bad request"})
        _, headers, raw = gateway_response(status, body, str(uuid.uuid4()))
        self.send_response(status, responses.get(status))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(raw)

