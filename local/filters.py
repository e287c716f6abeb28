"""EventBridge-style content filtering, as Lambda event source FilterCriteria use it on records."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

_MISSING = object()


def matches_any(filter_criteria: dict[str, Any] | None, record: dict[str, Any]) -> bool:
    """True when there are no filters or one of them matches (Lambda keeps a record if ANY filter matches)."""
    filters = (filter_criteria or {}).get("Filters") or []
    if not filters:
        return True
    return any(matches(_pattern(f.get("Pattern", "{}")), record) for f in filters)


def _pattern(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else raw


def matches(pattern: dict[str, Any], document: Any) -> bool:
    for key, expected in pattern.items():
        value = document.get(key, _MISSING) if isinstance(document, dict) else _MISSING
        if isinstance(expected, dict):
            if value is _MISSING or not matches(expected, value):
                return False
        elif not _matches_list(expected, value):
            return False
    return True


def _matches_list(matchers: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_matches_one(m, v) for m in matchers for v in (values or [_MISSING]))


def _matches_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return value is not _MISSING and matcher == value
    (operator, argument), = matcher.items()
    if operator == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False  # only "exists": false matches a missing field
    if operator == "prefix":
        return isinstance(value, str) and _text_op(argument, value, str.startswith)
    if operator == "suffix":
        return isinstance(value, str) and _text_op(argument, value, str.endswith)
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(argument).lower()
    if operator == "wildcard":
        return isinstance(value, str) and fnmatch.fnmatchcase(value, argument)
    if operator == "anything-but":
        if isinstance(argument, dict):
            return not _matches_one(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return value not in excluded
    if operator == "numeric":
        return _numeric(argument, value)
    raise ValueError(f"filter operator {operator!r} is not supported locally")


def _text_op(argument: Any, value: str, op: Any) -> bool:
    if isinstance(argument, dict) and "equals-ignore-case" in argument:
        return op(value.lower(), argument["equals-ignore-case"].lower())
    return op(value, argument)


def _numeric(conditions: list[Any], value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    checks = {"=": number.__eq__, ">": number.__gt__, ">=": number.__ge__, "<": number.__lt__, "<=": number.__le__}
    return all(checks[op](float(limit)) for op, limit in zip(conditions[::2], conditions[1::2], strict=True))
