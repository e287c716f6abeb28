"""schemathesis against the local stack from the committed openapi/api-v1.json: every operation, authenticated
with an API key, a bounded number of generated requests each. Whatever it sends, the API answers without a 5xx,
with a status the document declares and a body that matches the declared schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.stack import HubStack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
KEY = "local-dev-api-key-tests-00000000000003"  # local/dev-api-keys.json: LOCAL ONLY
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


@pytest.fixture(scope="module")
def api_stack():
    # the usage plan would throttle a fuzzer at 10/s: this stack's plan allows it (throttling has its own tests)
    with HubStack(ROOT / "template.yaml", parameter_overrides={
            "SyncApiRateLimit": "10000", "SyncApiBurstLimit": "10000"}) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(api_stack):
    schema = schemathesis.openapi.from_path(ROOT / "openapi" / "api-v1.json")
    schema.config.update(base_url=api_stack.endpoints["gateway"])
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_contract(case):
    case.call_and_validate(headers={"x-api-key": KEY}, checks=CHECKS, timeout=10)
