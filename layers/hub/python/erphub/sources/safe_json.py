"""JSON from the outside world, with limits checked before and while parsing.

Whatever the bytes, `loads` returns a value or raises BadEnvelope; nothing else escapes. The limits are far
above anything a vendor sends (Stripe events nest about 8 deep, ids and amounts are short) and far below
what hurts the parser or the code after it:
- nesting deeper than MAX_DEPTH is refused before parsing (json's C scanner recurses once per level);
- a number literal longer than MAX_NUMBER_CHARS is refused while parsing (a 5,000-digit integer is a
  ValueError in int(), a 400-digit one an OverflowError in datetime or float arithmetic later);
- NaN/Infinity are not JSON and are refused;
- strings holding lone surrogates (an escaped half of a UTF-16 pair) are refused: they cannot be
  encoded as UTF-8, so DynamoDB, S3 or a log line would fail on them later.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from erphub.errors import BadEnvelope

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 40

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# every character a JSON number literal can hold becomes "0", any other " ": a run of "0" longer than a number may
# be is where one could be too long (a regex search for the run costs ten times more)
_NUMBER_CHARS = bytes(0x30 if byte in b"-+0123456789.eE" else 0x20 for byte in range(256))
_TOO_LONG = b"0" * (MAX_NUMBER_CHARS + 1)


def nesting_depth(body: bytes) -> int:
    """The deepest bracket nesting of a JSON text, outside strings (no parsing, no recursion)."""
    brackets = _BRACKETS.findall(_STRING.sub(b'""', body))
    return max(accumulate(_STEP[b[0]] for b in brackets), default=0)


def loads(body: bytes, source: str) -> Any:
    # the depth is at most the number of opening brackets: most bodies have too few to need counting levels
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and nesting_depth(body) > MAX_DEPTH:
        raise BadEnvelope(f"{source}: JSON nested deeper than {MAX_DEPTH} levels", system=source)
    utf8 = json.detect_encoding(body) in ("utf-8", "utf-8-sig")
    try:
        value = json.loads(body, parse_constant=_constant, **_number_hooks(body, utf8))
    except _Refused as exc:
        raise BadEnvelope(f"{source}: {exc}", system=source) from exc
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise BadEnvelope(f"{source}: body is not JSON ({_short(exc)})", system=source) from exc
    if _may_hold_surrogates(body, utf8) and _has_lone_surrogate(value):
        raise BadEnvelope(f"{source}: JSON string holds a lone UTF-16 surrogate (not valid Unicode)", system=source)
    return value


class _Refused(ValueError):
    pass


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"number of {len(text)} characters, more than {MAX_NUMBER_CHARS}")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"number of {len(text)} characters, more than {MAX_NUMBER_CHARS}")
    return float(text)


def _constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number")


def _number_hooks(body: bytes, utf8: bool) -> dict[str, Any]:
    """The length checks, in Python for every number, only when a run of number characters (in UTF-8 text) is long
    enough to be a number that is too long; otherwise json's C parser reads the numbers itself."""
    if utf8 and _TOO_LONG not in body.translate(_NUMBER_CHARS):
        return {}
    return {"parse_int": _integer, "parse_float": _float}


def _may_hold_surrogates(body: bytes, utf8: bool) -> bool:
    """False when no decoded string can hold a surrogate: json reads UTF-8 with surrogatepass, so one comes only
    from a \\uD800-\\uDFFF escape or the raw bytes ED A0..BF; other encodings (UTF-16/32) are always checked."""
    return not utf8 or b"\xed" in body or _SURROGATE_ESCAPE.search(body) is not None


def _has_lone_surrogate(value: Any) -> bool:
    # iterative: the depth is bounded already, but a wide document must not cost a stack frame per value
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
