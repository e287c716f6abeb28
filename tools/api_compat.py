"""Does a new version of a contract break its clients? For the OpenAPI document of /api/v1 and the canonical
event schemas: `breaking(old, new)` lists every change a client of `old` would trip over (empty = compatible).

What breaks, by who reads what:
  request bodies and parameters (clients send them): a removed path or method, a newly required field or
  parameter, a removed field the schema forbids now, a narrowed type, enum, length, range or pattern;
  responses (clients read them): a removed field, a field no longer always present, a type or enum that gains
  values the client does not expect;
  events (consumers read them, and archived events are replayed against them): both of the above.
Adding an optional request field, a response field, a path or an operation is compatible.
"""

from __future__ import annotations

from typing import Any

REQUEST, RESPONSE, EVENT = "request", "response", "event"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_NARROWER = {"maxLength": min, "maxItems": min, "maximum": min, "exclusiveMaximum": min,
             "minLength": max, "minItems": max, "minimum": max, "exclusiveMinimum": max}


def breaking_openapi(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for path, old_item in (old.get("paths") or {}).items():
        new_item = (new.get("paths") or {}).get(path)
        if new_item is None:
            found.append(f"{path}: path removed")
            continue
        for method in METHODS:
            if method in old_item and method not in new_item:
                found.append(f"{method.upper()} {path}: operation removed")
            elif method in old_item:
                found += _operation(f"{method.upper()} {path}", old_item[method], new_item[method], old, new)
    return found


def breaking_schema(old: dict[str, Any], new: dict[str, Any], where: str = "", mode: str = EVENT) -> list[str]:
    """Two JSON Schemas of one document each ($defs resolved within it)."""
    return _Compare(old, new, mode).schema(old, new, where or "$")


def _operation(where: str, old: dict[str, Any], new: dict[str, Any], old_doc: dict[str, Any],
               new_doc: dict[str, Any]) -> list[str]:
    found = []
    old_params = {(p["in"], p["name"]): p for p in old.get("parameters") or []}
    for p in new.get("parameters") or []:
        key, before = (p["in"], p["name"]), old_params.get((p["in"], p["name"]))
        if p.get("required") and not (before or {}).get("required"):
            found.append(f"{where}: parameter {key[1]} ({key[0]}) newly required")
        if before is not None:
            found += _Compare(old_doc, new_doc, REQUEST).schema(before.get("schema") or {}, p.get("schema") or {},
                                                                 f"{where} parameter {key[1]}")
    old_body, new_body = _json_schema(old.get("requestBody")), _json_schema(new.get("requestBody"))
    if new_body is not None and old_body is None and (new.get("requestBody") or {}).get("required"):
        found.append(f"{where}: request body newly required")
    if old_body is not None and new_body is not None:
        found += _Compare(old_doc, new_doc, REQUEST).schema(old_body, new_body, f"{where} request")
    for status, answer in (old.get("responses") or {}).items():
        before, after = _json_schema(answer), _json_schema((new.get("responses") or {}).get(status))
        if before is not None and after is None:
            found.append(f"{where}: response {status} removed")
        elif before is not None and after is not None:
            found += _Compare(old_doc, new_doc, RESPONSE).schema(before, after, f"{where} response {status}")
    return found


def _json_schema(part: dict[str, Any] | None) -> dict[str, Any] | None:
    return ((part or {}).get("content") or {}).get("application/json", {}).get("schema")


class _Compare:
    def __init__(self, old_doc: dict[str, Any], new_doc: dict[str, Any], mode: str) -> None:
        self.old_doc, self.new_doc, self.mode = old_doc, new_doc, mode
        self.seen: set[tuple[str, str, str]] = set()

    def schema(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        key = (str(old.get("$ref")), str(new.get("$ref")), self.mode)
        if "$ref" in old and "$ref" in new:
            if key in self.seen:  # a shared (or recursive) definition is compared once
                return []
            self.seen.add(key)
        old, new = _resolve(self.old_doc, old), _resolve(self.new_doc, new)
        old_variant, new_variant = _object_variant(self.old_doc, old), _object_variant(self.new_doc, new)
        found = self._types(old, new, where) + self._enum(old, new, where)
        if self.mode != RESPONSE:
            found += self._constraints(old, new, where)
        if old_variant is not None and new_variant is not None:
            found += self._object(old_variant, new_variant, where)
        old_items, new_items = _items(self.old_doc, old), _items(self.new_doc, new)
        if old_items is not None and new_items is not None:
            found += self.schema(old_items, new_items, f"{where}[]")
        return found

    def _types(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        before, after = _types(self.old_doc, old), _types(self.new_doc, new)  # None: any type
        if before == after:
            return []
        if before is None or after is None:
            narrowed = before is None and self.mode != RESPONSE
            widened = after is None and self.mode != REQUEST
            return [f"{where}: type narrowed from any to {sorted(after or [])}"] * narrowed + \
                [f"{where}: type widened from {sorted(before or [])} to any"] * widened
        found = []
        if self.mode != RESPONSE and not _covers(after, before):
            found.append(f"{where}: type narrowed from {sorted(before)} to {sorted(after)}")
        if self.mode != REQUEST and not _covers(before, after):
            found.append(f"{where}: type widened from {sorted(before)} to {sorted(after)}")
        return found

    def _enum(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        before, after = _enum(self.old_doc, old), _enum(self.new_doc, new)
        found = []
        if self.mode != RESPONSE and after is not None and (before is None or not set(before) <= set(after)):
            found.append(f"{where}: enum narrowed (no longer accepts {sorted(set(before or []) - set(after))})")
        if self.mode != REQUEST and before is not None and (after is None or not set(after) <= set(before)):
            found.append(f"{where}: enum widened ({sorted(set(after or []) - set(before))} are new values)")
        return found

    def _constraints(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        found = []
        for name, tighter in _NARROWER.items():
            if name in new and (name not in old or tighter(old[name], new[name]) != old[name]):
                found.append(f"{where}: {name} narrowed from {old.get(name)} to {new[name]}")
        if "pattern" in new and new.get("pattern") != old.get("pattern"):
            found.append(f"{where}: pattern changed from {old.get('pattern')!r} to {new['pattern']!r}")
        return found

    def _object(self, old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
        found = []
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name, old_prop in old_props.items():
            if name not in new_props:
                if self.mode != REQUEST:
                    found.append(f"{where}.{name}: field removed")
                elif new.get("additionalProperties") is False:
                    found.append(f"{where}.{name}: field removed (now refused)")
                continue
            found += self.schema(old_prop, new_props[name], f"{where}.{name}")
        if self.mode != RESPONSE:
            found += [f"{where}.{name}: newly required" for name in sorted(new_required - old_required)]
        if self.mode != REQUEST:
            found += [f"{where}.{name}: no longer required (may be absent)" for name in
                      sorted(old_required - new_required)]
        if self.mode != RESPONSE and old.get("additionalProperties") is not False and new.get(
                "additionalProperties") is False:
            found.append(f"{where}: additional properties now refused")
        return found


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _variants(doc: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if not alternatives:
        return [schema]
    return [v for a in alternatives for v in _variants(doc, _resolve(doc, a))]


def _types(doc: dict[str, Any], schema: dict[str, Any]) -> set[str] | None:
    found: set[str] = set()
    for variant in _variants(doc, schema):
        kind = variant.get("type")
        if kind is None and "const" not in variant and "enum" not in variant:
            return None  # a variant without a type accepts anything
        found |= set(kind) if isinstance(kind, list) else {kind} if kind else set()
    return found


def _covers(wide: set[str], narrow: set[str]) -> bool:
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _enum(doc: dict[str, Any], schema: dict[str, Any]) -> list[Any] | None:
    values: list[Any] = []
    for variant in _variants(doc, schema):
        if "enum" in variant:
            values += variant["enum"]
        elif "const" in variant:
            values.append(variant["const"])
        elif variant.get("type") != "null":
            return None
    return [str(v) for v in values]


def _object_variant(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    return next((v for v in _variants(doc, schema) if v.get("type") == "object" or "properties" in v), None)


def _items(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    return next((v["items"] for v in _variants(doc, schema) if isinstance(v.get("items"), dict)), None)


def breaking_events(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """schemas/ as {file name: document}: a removed event type or schema, or a breaking change in one."""
    found = []
    old_types, new_types = old.get("event-types.json") or {}, new.get("event-types.json") or {}
    found += [f"event type {t}: removed" for t in old_types if t not in new_types]
    found += [f"event type {t}: moved from {f} to {new_types[t]}" for t, f in old_types.items()
              if t in new_types and new_types[t] != f]
    for name, schema in old.items():
        if name == "event-types.json":
            continue
        if name not in new:
            found.append(f"{name}: schema removed")
        else:
            found += breaking_schema(schema, new[name], name, EVENT)
    return found
