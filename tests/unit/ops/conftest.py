"""The workflow and identity tables in moto (in-process) for the operator API's library."""

from __future__ import annotations

import pytest

from erphub import aws

KEY_SCHEMA = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                       {"AttributeName": "sk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
              "BillingMode": "PAY_PER_REQUEST"}


@pytest.fixture
def tables(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("IDENTITY_TABLE", "identity")
    monkeypatch.setenv("WORKFLOW_TABLE", "workflows")
    with mock_aws():
        aws.reset_clients()
        ddb = aws.client("dynamodb")
        for name in ("identity", "workflows"):
            ddb.create_table(TableName=name, **KEY_SCHEMA)
        yield ddb
    aws.reset_clients()
