"""moto's generic response serializer finds each member of a plain dict result once per shape, not per value.

moto 5.2.5 serializes every JSON/query answer (DynamoDB items, Step Functions executions, EventBridge and SQS
answers) by walking the operation's output shape and, for every member of every structure, asking its
`XFormedAttributePicker` which keys may hold the value: six alias providers, each built per member per value,
plus `botocore.xform_name` for each alias. For a DynamoDB item that is ten members per attribute value, each
time. Profiled across `bench/workflows.py` (issue 13) this search was most of the serializer's cost.

For a result that is a plain `dict`, the aliases depend only on the member's shape and name: the providers read
the object only for its `Meta` (a dict has none) and its class name (always "dict"). So the list of keys to try
is computed once per (member shape, name) by moto's own picker and remembered; the value is then looked up in
the same order with moto's own `get_value`, exactly as the picker does. Anything else (objects, pickers with
response transformers or other alias providers) goes through moto's code unchanged.

DynamoDB's `AttributeValue` (every attribute of every item, and of every stream record) is a union: exactly one
member is set. A plain one (`S`, `N`, `BOOL`, `NULL`, `SS`, `NS`, and `M`/`L` of plain ones) serializes to a copy
of itself: the member's string, boolean or list of strings as given (what moto's string, boolean and list
serializers make of a `str`, `bool` and list of `str`). Those are written directly; binaries (`B`, `BS`, base64),
anything not of exactly those types, and an empty or ambiguous union go through moto's serializer.

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_serializer_guard.py compares
the answers with moto's own serializer and fails loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

from local import pinned

EXPECTED_MOTO = "5.2.5"
EXPECTED_GET_VALUE = ("self", "value", "key", "shape")
MARK = "__erphub_keys_remembered__"
# the alias providers whose answers for a dict depend on nothing but the shape and the key
ATTRIBUTE_VALUE_MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
ATTRIBUTE_VALUE_SERVICES = ("dynamodb", "dynamodbstreams")
_STRINGS, _BOOLEANS, _STRING_SETS = frozenset({"S", "N"}), frozenset({"BOOL", "NULL"}), frozenset({"SS", "NS"})
EXPECTED_PROVIDERS = ("ExplicitAlias", "ShapeNameAlias", "NoAlias", "ShapePrefixAlias", "ClassPrefixAlias",
                      "ModelAlias")


def serialize_module() -> Any:
    from moto.core import serialize

    return serialize


def _original() -> Any:
    get_value = serialize_module().ResponseSerializer.get_value
    return getattr(get_value, MARK, get_value)


def check_compatible() -> None:
    pinned.require("moto", EXPECTED_MOTO, __name__)
    module = serialize_module()
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_GET_VALUE:
        raise RuntimeError(f"moto ResponseSerializer.get_value changed signature: {params}")
    providers = tuple(p.__name__ for p in module.DEFAULT_ALIAS_PROVIDERS)
    if providers != EXPECTED_PROVIDERS:
        raise RuntimeError(f"moto's attribute alias providers changed: {providers}")
    for service in ATTRIBUTE_VALUE_SERVICES:
        members = tuple(_attribute_value_shape(service).members)
        if members != ATTRIBUTE_VALUE_MEMBERS:
            raise RuntimeError(f"{service}'s AttributeValue changed members: {members}")
    structure = _original_structure()
    if tuple(inspect.signature(structure).parameters) != ("self", "serialized", "value", "shape", "key"):
        raise RuntimeError(f"moto BaseJSONSerializer._serialize_type_structure changed: {inspect.signature(structure)}")
    picker = inspect.getsource(module.AttributePicker.__call__)
    if "get_value(obj, possible_key, MISSING)" not in picker or "self.response_transformers" not in picker:
        raise RuntimeError("moto AttributePicker.__call__ no longer tries its possible keys in order with get_value")


def _attribute_value_shape(service: str) -> Any:
    from moto.core.responses import get_service_model

    return get_service_model(service).shape_for("AttributeValue")


def _original_structure() -> Any:
    method = serialize_module().BaseJSONSerializer._serialize_type_structure
    return getattr(method, MARK, method)


def installed() -> bool:
    module = serialize_module()
    return (getattr(module.ResponseSerializer.get_value, MARK, None) is not None
            and getattr(module.BaseJSONSerializer._serialize_type_structure, MARK, None) is not None)


def install() -> None:
    """Idempotent; process-wide (moto's serializer classes are)."""
    if installed():
        return
    check_compatible()
    module = serialize_module()
    if getattr(module.ResponseSerializer.get_value, MARK, None) is None:
        module.ResponseSerializer.get_value = _remembering(module.ResponseSerializer.get_value)
    if getattr(module.BaseJSONSerializer._serialize_type_structure, MARK, None) is None:
        module.BaseJSONSerializer._serialize_type_structure = _plain_attribute_values(
            module.BaseJSONSerializer._serialize_type_structure)


def _remembering(original: Any) -> Any:
    from moto.core.utils import MISSING
    from moto.core.utils import get_value as value_of

    module = serialize_module()

    picker_class, providers, context_class = (module.XFormedAttributePicker, module.DEFAULT_ALIAS_PROVIDERS,
                                              module.AttributePickerContext)
    # member shapes live as long as moto's service models; a member's parent (set by the serializer) is part of
    # what its aliases depend on
    keys_of: dict[tuple[Any, str, Any], tuple[str, ...]] = {}
    lock = threading.Lock()

    def possible_keys(picker: Any, value: dict[str, Any], key: str, shape: Any) -> tuple[str, ...]:
        known = (shape, key, getattr(shape, "parent", None))
        remembered = keys_of.get(known)
        if remembered is None:
            remembered = tuple(picker.get_possible_keys(context_class(obj=value, key=key, shape=shape)))
            with lock:
                keys_of[known] = remembered
        return remembered

    @functools.wraps(original)
    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (type(value) is not dict or type(picker) is not picker_class or picker.response_transformers
                or picker.alias_providers is not providers):
            return original(self, value, key, shape)
        for possible in possible_keys(picker, value, key, shape):
            found = value_of(value, possible, MISSING)
            if found is not MISSING:
                return found
        return None

    setattr(get_value, MARK, original)
    return get_value


def plain_attribute_value(value: Any) -> dict[str, Any] | None:
    """The serialized copy of a plain AttributeValue, else None (moto's serializer decides)."""
    if type(value) is not dict or len(value) != 1:
        return None
    (member, content), = value.items()
    if member in _STRINGS:
        return {member: content} if type(content) is str else None
    if member in _BOOLEANS:
        return {member: content} if type(content) is bool else None
    if member in _STRING_SETS:
        return {member: list(content)} if type(content) is list and all(type(s) is str for s in content) else None
    if member == "M" and type(content) is dict:
        entries = {name: plain_attribute_value(item) for name, item in content.items()}
        return None if any(entry is None for entry in entries.values()) else {"M": entries}
    if member == "L" and type(content) is list:
        items = [plain_attribute_value(item) for item in content]
        return None if any(item is None for item in items) else {"L": items}
    return None


def _plain_attribute_values(original: Any) -> Any:
    @functools.wraps(original)
    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and self.service_model.service_name in ATTRIBUTE_VALUE_SERVICES:
            plain = plain_attribute_value(value)
            if plain is not None:
                serialized[key] = plain
                return
        original(self, serialized, value, shape, key)

    setattr(_serialize_type_structure, MARK, original)
    return _serialize_type_structure
