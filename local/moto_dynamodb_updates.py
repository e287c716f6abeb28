"""DynamoDB update expressions in the embedded AWS: parsed once per text, and copied for validation by pickling,
not `copy.deepcopy`.

moto 5.2.5 tokenizes and parses an UpdateItem's expression twice per request (once to list its placeholders in
`DynamoHandler.update_item`, once more in `DynamoDBBackend.update_item`), though the hub sends a few dozen
distinct texts. The parse depends on the text only, and nothing changes the parsed tree: the responses only read
its placeholders, and validation works on its own copy of it (below). So `UpdateExpressionParser.make` keeps the
last PARSED trees by text; an expression that does not parse raises as before, every time.

moto 5.2.5 validates every UpdateItem on a private copy of the expression's syntax tree (`Validator.__init__`:
`deepcopy(expression)`, since the validation rewrites the tree in place). `copy.deepcopy` walks the tree in
Python; a pickle round trip makes the same copy (the same objects rebuilt from the same state, shared references
kept shared) about 2.5x faster. Profiled across `bench/workflows.py` (issue 13): 2-5 % of the stack's CPU, at
~15 updates per activation. Only syntax-tree nodes are copied this way; anything else (and a tree that cannot be
pickled) goes to `copy.deepcopy` as before.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_dynamodb_updates_guard.py fails
loudly if the validator stops copying its tree with the module's `deepcopy` or the parse depends on more than the
text, and compares every kind of update, answered from cached trees, with moto's own answers.
"""

from __future__ import annotations

import copy
import functools
import inspect
import pickle
from typing import Any

from local import pinned

EXPECTED_MOTO = "5.2.5"
MARK = "__erphub_pickled_copy__"
PARSED = 512  # update expressions kept parsed, by text
MAKE_SOURCE = "token_list = ExpressionTokenizer.make_list(expression_str)\n        return cls(token_list).parse()"


def validators() -> Any:
    from moto.dynamodb.parsing import validators

    return validators


def expressions() -> Any:
    from moto.dynamodb.parsing import expressions

    return expressions


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    module = validators()
    if "self.node_to_validate = deepcopy(expression)" not in inspect.getsource(module.Validator.__init__):
        raise RuntimeError("moto's DynamoDB Validator no longer copies its expression with the module's deepcopy")
    if getattr(module.deepcopy, MARK, module.deepcopy) is not copy.deepcopy:
        raise RuntimeError("moto's DynamoDB validators no longer use copy.deepcopy")
    make = getattr(expressions().UpdateExpressionParser.make, MARK, expressions().UpdateExpressionParser.make)
    if MAKE_SOURCE not in inspect.getsource(make):
        raise RuntimeError("moto's UpdateExpressionParser.make no longer parses the text alone")


def installed() -> bool:
    return getattr(validators().deepcopy, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (moto's module is)."""
    if installed():
        return
    check_compatible()
    validators().deepcopy = tree_copy
    parser = expressions().UpdateExpressionParser
    make = parser.make.__func__

    @functools.lru_cache(maxsize=PARSED)
    def parsed(expression_str: str) -> Any:
        return make(parser, expression_str)

    def make_once(cls: Any, expression_str: str) -> Any:
        return parsed(expression_str) if cls is parser else make(cls, expression_str)

    setattr(make_once, MARK, parser.make)
    parser.make = classmethod(make_once)


def tree_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    if memo is None and isinstance(value, Node):
        try:
            return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own bytes  # nosec B301
        except (pickle.PicklingError, TypeError, AttributeError):
            pass  # something in the tree pickle cannot rebuild: deepcopy knows more ways
    return copy.deepcopy(value, memo)


setattr(tree_copy, MARK, copy.deepcopy)
