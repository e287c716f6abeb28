"""local/moto_dynamodb_updates.py: UpdateItem answers and stores exactly what it did with moto's deepcopy, for every
kind of update expression, and the moto internals it relies on are still the ones it was written for."""

from __future__ import annotations

import copy

import boto3
import pytest
from moto import mock_aws

from local import moto_dynamodb_updates

pytestmark = pytest.mark.integration

UPDATES = [
    ("SET #m = if_not_exists(#m, :t), #a0 = if_not_exists(#a0, :a0), n = :n ADD c :one", {"#m": "m", "#a0": "a0"}),
    ("SET l = list_append(if_not_exists(l, :empty), :l), deep.x = :t", None),
    ("SET c = c + :one, s = :t REMOVE gone DELETE tags :tag", None),
    ("ADD tags :tag SET #m = :t", {"#m": "milestone"}),
    ("SET deep.#k = :n, l[0] = :t", {"#k": "key"}),
    ("SET c = :bad + :one", None),  # a validation error, answered the same way
]
VALUES = {":t": {"S": "2026-12-01"}, ":a0": {"S": "a"}, ":n": {"N": "1.5"}, ":one": {"N": "1"},
          ":empty": {"L": []}, ":l": {"L": [{"S": "x"}, {"M": {"y": {"BOOL": True}}}]}, ":tag": {"SS": ["t1"]},
          ":bad": {"S": "text"}}


def _run_all() -> list:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="t", Item={"pk": {"S": "k"}, "gone": {"S": "x"}, "tags": {"SS": ["t0", "t1"]},
                                          "deep": {"M": {"x": {"N": "0"}}}, "c": {"N": "2"}})
        answers = []
        for expression, names in UPDATES:
            used = {k: v for k, v in VALUES.items() if k in expression}
            try:
                answer = ddb.update_item(TableName="t", Key={"pk": {"S": "k"}}, UpdateExpression=expression,
                                         ExpressionAttributeValues=used, ReturnValues="ALL_NEW",
                                         **({"ExpressionAttributeNames": names} if names else {}))
                answers.append(answer["Attributes"])
            except ddb.exceptions.ClientError as exc:
                answers.append(exc.response["Error"])
        answers.append(ddb.get_item(TableName="t", Key={"pk": {"S": "k"}})["Item"])
        return answers


def test_the_moto_internals_are_still_what_the_module_expects():
    moto_dynamodb_updates.check_compatible()
    moto_dynamodb_updates.install()
    moto_dynamodb_updates.install()  # idempotent
    assert moto_dynamodb_updates.validators().deepcopy is moto_dynamodb_updates.tree_copy


def test_updates_answer_and_store_what_they_did_with_deepcopy(monkeypatch):
    moto_dynamodb_updates.install()
    pickled = _run_all()
    monkeypatch.setattr(moto_dynamodb_updates.validators(), "deepcopy", copy.deepcopy)
    assert pickled == _run_all()
    assert pickled[-1]["milestone"] == {"S": "2026-12-01"} and pickled[-2]["Code"] == "ValidationException"


def test_the_copy_is_a_copy_of_the_tree():
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make("SET a = if_not_exists(a, :t) ADD c :one")
    copied = moto_dynamodb_updates.tree_copy(tree)
    assert copied is not tree and type(copied) is type(tree)
    assert repr(vars(copied)).count("object at") == repr(vars(tree)).count("object at")
    assert moto_dynamodb_updates.tree_copy([1, {"a": 2}]) == [1, {"a": 2}]


def test_updates_answered_from_trees_parsed_once_match_moto_parsing_every_time(monkeypatch):
    moto_dynamodb_updates.install()
    parser = moto_dynamodb_updates.expressions().UpdateExpressionParser
    assert parser.make("SET a = :b") is parser.make("SET a = :b")
    first, again = _run_all(), _run_all()  # the second run's trees are the first run's, used once already
    monkeypatch.setattr(parser, "make", getattr(parser.make, moto_dynamodb_updates.MARK))
    assert parser.make("SET a = :b") is not parser.make("SET a = :b")
    assert first == again == _run_all()


def test_an_expression_that_does_not_parse_is_refused_every_time():
    moto_dynamodb_updates.install()
    parser = moto_dynamodb_updates.expressions().UpdateExpressionParser
    for _ in range(2):
        with pytest.raises(Exception, match="Invalid UpdateExpression"):
            parser.make("SET a = = :b")
