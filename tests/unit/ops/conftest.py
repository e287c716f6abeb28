"""The workflow and identity tables in moto (in-process) for the operator API's library."""

from __future__ import annotations

import pytest

from erphub import aws

KEY_SCHEMA = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "sk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
              "BillingMode": "PAY_PER_REQUEST"}


@pytest.fixture
def tables(hub_settings):
    from moto import mock_aws

    with mock_aws():
        hub_settings(IDENTITY_TABLE="identity", WORKFLOW_TABLE="workflows")  # clients made inside the mock
        ddb = aws.client("dynamodb")
        for name in ("identity", "workflows"):
            ddb.create_table(TableName=name, **KEY_SCHEMA)
        yield ddb
