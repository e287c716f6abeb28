"""The console's function serves only the files it ships, with a <base> that makes every link relative to the
API's stage, and tells the browser where to sign in (the embedded AWS locally, Cognito's endpoint on AWS)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[3] / "functions" / "ops_console" / "app.py"


@pytest.fixture
def console(monkeypatch, hub_settings):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    hub_settings(OPS_USER_POOL_CLIENT_ID="client-1", AWS_REGION="eu-west-1")
    spec = importlib.util.spec_from_file_location("ops_console_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get(console, path: str, asset: str | None = None) -> dict:
    event = {"path": path, "pathParameters": {"asset": asset} if asset else None, "requestContext": {"path": path}}
    return console.lambda_handler(event, None)


@pytest.mark.parametrize(("called", "base"), [("/Prod/ops/console", "/Prod/ops/"), ("/ops/console", "/ops/"),
                                              ("/ops/console/", "/ops/")])
def test_the_page_links_relative_to_the_stage_it_was_called_on(console, called, base):
    answer = get(console, called)
    assert answer["statusCode"] == 200 and f'<base href="{base}">' in answer["body"]
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in answer["headers"]["Content-Security-Policy"]


def test_sign_in_settings_name_the_regional_cognito_endpoint_on_aws(console):
    settings = json.loads(get(console, "/ops/console/config.json", "config.json")["body"])
    assert settings == {"client_id": "client-1", "region": "eu-west-1",
                        "cognito_endpoint": "https://cognito-idp.eu-west-1.amazonaws.com/"}


def test_sign_in_settings_follow_the_local_stacks_endpoint(console, hub_settings):
    hub_settings(AWS_ENDPOINT_URL="http://127.0.0.1:5000")
    answer = get(console, "/ops/console/config.json", "config.json")
    assert json.loads(answer["body"])["cognito_endpoint"] == "http://127.0.0.1:5000"
    assert "connect-src 'self' http://127.0.0.1:5000;" in answer["headers"]["Content-Security-Policy"]


@pytest.mark.parametrize("asset", ["app.py", "..%2Fapp.py", "../app.py", "index.html", "static"])
def test_nothing_but_the_shipped_assets_is_served(console, asset):
    assert get(console, f"/ops/console/{asset}", asset)["statusCode"] == 404


def test_the_scripts_and_styles_are_served_with_their_types(console):
    assert get(console, "/ops/console/app.js", "app.js")["headers"]["Content-Type"].startswith("text/javascript")
    assert get(console, "/ops/console/style.css", "style.css")["headers"]["Content-Type"].startswith("text/css")
