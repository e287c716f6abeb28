"""Vendor contracts: the facts of each operation a connector calls, taken from the vendor's published API
description and kept in tests/contracts/<vendor>/*.json. One checker serves both sides: the tests validate
every request a connector sends, and the sandbox refuses what does not match, as the vendor would.

A contract file: {"vendor", "source", "version", "unconfirmed": [...], "encoding": "json" | "form",
"operations": [{"name", "method", "path", "query", "body", "headers"}], "error": <schema of the error body>}.
Paths are relative to the vendor's base URL; `{name}` matches one path segment (or the part of a segment it
stands in). Schemas are a small JSON Schema subset: type, properties, patternProperties, required,
additionalProperties, items, enum, pattern, maxLength, minimum, maximum, anyOf. A form-encoded body (Stripe,
Chargebee) carries every scalar as text, so there "integer" means digits and "boolean" means true/false.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from local.sandbox.forms import unflatten

ROOT = Path(__file__).resolve().parents[2] / "tests" / "contracts"
_FORM_SCALARS = {"integer": re.compile(r"^-?\d+$"), "number": re.compile(r"^-?\d+(\.\d+)?$"),
                 "boolean": re.compile(r"^(true|false)$")}
_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                            "boolean": (bool,), "object": (dict,), "array": (list,),
                                            "null": (type(None),)}


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    query: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    headers: list[str] = field(default_factory=list)
    encoding: str | None = None  # when it differs from the file's (an OAuth token endpoint takes a form)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{\w+\})", self.path)
        return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


@dataclass(frozen=True)
class Contract:
    vendor: str
    encoding: str
    operations: tuple[Operation, ...]
    error: dict[str, Any] | None

    def find(self, method: str, path: str) -> Operation | None:
        """The operation for a request; literal paths win over templated ones (`/customers/search`)."""
        matches = [op for op in self.operations if op.method == method.upper() and op.pattern.match(path)]
        return min(matches, key=lambda op: op.path.count("{"), default=None)

    def check(self, method: str, path: str, query: list[tuple[str, str]], body: bytes,
              headers: dict[str, str] | None = None) -> tuple[Operation | None, list[str]]:
        """(operation, violations) for one request; path is below the base URL, query already split."""
        operation = self.find(method, path)
        if operation is None:
            return None, [f"{method} {path} is not an operation of the {self.vendor} contract"]
        problems: list[str] = []
        names = {k.lower() for k in (headers or {})}
        problems += [f"header {h} is required" for h in operation.headers if h.lower() not in names]
        if operation.query is not None:
            problems += validate(_query(query), operation.query, "query", form=True)
        encoding = operation.encoding or self.encoding
        if operation.body is not None:
            problems += validate(_body(body, encoding), operation.body, "body", form=encoding == "form")
        elif body.strip():
            problems.append("body: the operation takes no body")
        return operation, problems

    def check_error(self, payload: Any) -> list[str]:
        return validate(payload, self.error, "error") if self.error else []



def _body(body: bytes, encoding: str) -> Any:
    if encoding == "form":
        return unflatten(parse_qsl(body.decode(), keep_blank_values=True))
    try:
        return json.loads(body or b"null")
    except ValueError:
        return "<not JSON>"


def _query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query parameters; `name[]` repeated is an array (Stripe's lookup_keys[])."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            found.setdefault(key[:-2], []).append(value)
        else:
            found[key] = value
    return found


@cache
def load(vendor: str) -> Contract:
    operations: list[Operation] = []
    encoding, error = "json", None
    for file in sorted((ROOT / vendor).glob("*.json")):
        raw = json.loads(file.read_text())
        encoding = raw.get("encoding", encoding)
        error = raw.get("error", error)
        operations += [Operation(op["name"], op["method"].upper(), op["path"], op.get("query"), op.get("body"),
                                 list(op.get("headers") or []), op.get("encoding")) for op in raw.get("operations", [])]
    if not operations:
        raise FileNotFoundError(f"no contract for {vendor} under {ROOT / vendor}")
    return Contract(vendor, encoding, tuple(operations), error)


def validate(value: Any, schema: dict[str, Any], where: str, *, form: bool = False) -> list[str]:
    """Violations of `schema` by `value` (empty when it conforms)."""
    if "anyOf" in schema:
        options = [validate(value, option, where, form=form) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else min(options, key=len)
    problems = _type(value, schema, where, form)
    if problems:
        return problems
    if "enum" in schema and value not in schema["enum"] and str(value) not in [str(e) for e in schema["enum"]]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    if isinstance(value, str):
        problems += _text(value, schema, where, form)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: above {schema['maximum']}")
    if isinstance(value, dict):
        problems += _object(value, schema, where, form)
    if isinstance(value, list) and "items" in schema:
        for index, element in enumerate(value):
            problems += validate(element, schema["items"], f"{where}[{index}]", form=form)
    return problems


def _type(value: Any, schema: dict[str, Any], where: str, form: bool) -> list[str]:
    wanted = schema.get("type")
    if wanted is None:
        return []
    types = wanted if isinstance(wanted, list) else [wanted]
    for name in types:
        if form and isinstance(value, str) and name in _FORM_SCALARS and _FORM_SCALARS[name].match(value):
            return []
        if form and name == "array" and isinstance(value, dict) and all(k.isdigit() for k in value):
            return []
        if isinstance(value, _JSON_TYPES[name]) and not (name in ("integer", "number") and isinstance(value, bool)):
            return []
    return [f"{where}: {value!r} is not {' or '.join(types)}"]


def _text(value: str, schema: dict[str, Any], where: str, form: bool) -> list[str]:
    problems = []
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{where}: longer than {schema['maxLength']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
    number = schema.get("type") in ("integer", "number")
    if form and number and "minimum" in schema and float(value) < schema["minimum"]:
        problems.append(f"{where}: below {schema['minimum']}")
    if form and number and "maximum" in schema and float(value) > schema["maximum"]:
        problems.append(f"{where}: above {schema['maximum']}")
    return problems


def _object(value: dict[str, Any], schema: dict[str, Any], where: str, form: bool) -> list[str]:
    properties = schema.get("properties") or {}
    problems = [f"{where}.{name}: required" for name in schema.get("required", []) if name not in value]
    extra = schema.get("additionalProperties", True)
    for name, element in value.items():
        path = f"{where}.{name}"
        patterns = schema.get("patternProperties") or {}
        patterned = [sub for pattern, sub in patterns.items() if re.search(pattern, name)]
        if name in properties:
            problems += validate(element, properties[name], path, form=form)
        elif patterned:
            problems += validate(element, patterned[0], path, form=form)
        elif extra is False:
            problems.append(f"{path}: not a field of this operation")
        elif isinstance(extra, dict):
            problems += validate(element, extra, path, form=form)
    return problems


def vendor_path(base_path: str, full_path: str) -> str:
    """The request path below a vendor's base path (/stripe/v1/customers -> /v1/customers), still percent-encoded
    so that an encoded `/` in a key stays inside its segment."""
    return "/" + full_path[len(base_path):].lstrip("/") if full_path.startswith(base_path) else full_path
