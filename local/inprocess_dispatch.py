"""The in-process transport (local/inprocess_aws.py) calls moto's handler for a request without running Flask.

moto's server answers every request through a Flask application per service: a request context pushed and
popped, the URL routed, the handler's answer made into a Flask `Response`, after-request hooks (flask-cors)
run, and the response rendered for WSGI. Only the handler (`convert_to_flask_response.callback`, moto's
`BaseResponse.dispatch`) does any work; the rest was ~7 % of the local stack's CPU while workflows drained
(issue 13). This does what those steps do, for the same application, directly:

- the route is found with the application's own URL adapter (`Flask.create_url_adapter`), so the handler is
  the one Flask would call; a request Flask would not route to a moto handler (no route, another view, a
  request carrying an Origin for CORS to answer) goes through Flask as before;
- the handler is called as `convert_to_flask_response` calls it (the recorder, `raw_url`, a ClientError
  answered 400), and an HTTPException it raises (moto's service errors) is answered as Flask answers it;
- the answer is the application's `response_class` with the headers flask-cors adds to a request without
  an Origin (`Access-Control-Allow-Origin: *`), rendered by werkzeug as the server renders it.

moto-internal pieces used (pinned moto==5.2.5, flask-cors==6.0.5): tests/integration/runtime/
test_runtime_inprocess_dispatch_guard.py compares its answers with Flask's and fails loudly if they differ.
"""

from __future__ import annotations

from typing import Any

from local import pinned

CORS_HEADERS = (("Access-Control-Allow-Origin", "*"),)  # flask-cors's defaults, for a request without Origin


def check_compatible() -> None:
    pinned.require("moto", "5.2.5", __name__)
    pinned.require("flask_cors", "6.0.5", __name__)


def handler(app: Any, environ: dict[str, Any]) -> tuple[Any, Any] | None:
    """(moto's handler, the request) when Flask would route the request straight to it, else None."""
    from moto.core.utils import convert_to_flask_response
    from werkzeug.exceptions import HTTPException

    if "HTTP_ORIGIN" in environ:
        return None
    request = app.request_class(environ)
    try:
        endpoint, _ = app.create_url_adapter(request).match()
    except HTTPException:  # not found, wrong method, a redirect: Flask answers those its own way
        return None
    view = app.view_functions.get(endpoint)
    if not isinstance(view, convert_to_flask_response):
        return None
    return view.callback, request


def answer(app: Any, callback: Any, request: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """What the application answers: status, headers and body as its WSGI response renders them."""
    from botocore.exceptions import ClientError
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    response = None
    try:
        recorder._record_request(request)
        result = callback(request, request.raw_url, dict(request.headers))
    except ClientError as exc:
        result = 400, {}, exc.response["Error"]["Message"]
    except HTTPException as exc:  # Flask answers a view's HTTPException with the exception's own response
        response = exc.get_response(request.environ)
    if response is None:
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = app.response_class(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
    for name, value in CORS_HEADERS:
        if name not in response.headers:
            response.headers[name] = value
    headers = response.get_wsgi_headers(request.environ)
    body = b"".join(response.get_app_iter(request.environ))  # empty for HEAD, as werkzeug sends it
    return response.status_code, headers.to_wsgi_list(), body
