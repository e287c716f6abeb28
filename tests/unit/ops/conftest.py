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

    from local import moto_dynamodb

    # DynamoDB applies a conditional write atomically; moto 5.2.5 alone does not across threads (two concurrent
    # claims could both pass the condition: test_concurrent_actions_claim_once failed ~1 run in 5). The local
    # stack's lock makes moto's backend atomic, as the stack always runs it.
    moto_dynamodb.install()
    with mock_aws():
        hub_settings(IDENTITY_TABLE="identity", WORKFLOW_TABLE="workflows")  # clients made inside the mock
        ddb = aws.client("dynamodb")
        for name in ("identity", "workflows"):
            ddb.create_table(TableName=name, **KEY_SCHEMA)
        yield ddb
