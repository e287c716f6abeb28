"""The browser, the operator's API client and a signed-in console page, for the console's browser tests
(test_ops_console.py, test_ops_console_recovery.py): Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from erphub_cli.client import OpsClient, sign_in
from local.cognito_authorizer import dev_users
from local.template import REGION

SHOTS = Path(__file__).resolve().parents[3] / "test-output" / "console"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make browser` installs it (no browser can be downloaded)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def api(stack) -> OpsClient:
    user = dev_users()["operator"]
    tokens = sign_in(stack.physical("OpsUserPoolClient"), user["email"], user["password"], region=REGION,
                     endpoint_url=stack.aws.url)
    return OpsClient(stack.endpoints["gateway"] + "/ops/v1", tokens["IdToken"])


def signed_in(browser, stack, role: str):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(stack.endpoints["gateway"] + "/ops/console")
    user = dev_users()[role]
    page.fill("input[name=username]", user["email"])
    page.fill("input[name=password]", user["password"])
    page.click("form#login button[type=submit]")
    page.wait_for_selector("h1:text('Exceptions')")
    assert user["email"] in page.text_content("#who")
    return page


@pytest.fixture
def page(browser, stack, hub):
    opened = signed_in(browser, stack, "operator")
    yield opened
    opened.close()
