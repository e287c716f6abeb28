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

moto-internal (pinned moto==5.2.5): tests/integration/runtime/test_runtime_moto_serializer_guard.py compares
the answers with moto's own serializer and fails loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

EXPECTED_MOTO = "5.2.5"
EXPECTED_GET_VALUE = ("self", "value", "key", "shape")
MARK = "__erphub_keys_remembered__"
# the alias providers whose answers for a dict depend on nothing but the shape and the key
EXPECTED_PROVIDERS = ("ExplicitAlias", "ShapeNameAlias", "NoAlias", "ShapePrefixAlias", "ClassPrefixAlias",
                      "ModelAlias")


def serialize_module() -> Any:
    from moto.core import serialize

    return serialize


def _original() -> Any:
    get_value = serialize_module().ResponseSerializer.get_value
    return getattr(get_value, MARK, get_value)


def check_compatible() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO:
        raise RuntimeError(f"local/moto_serializer.py was written for moto {EXPECTED_MOTO}, found {moto.__version__}")
    module = serialize_module()
    params = tuple(inspect.signature(_original()).parameters)
    if params != EXPECTED_GET_VALUE:
        raise RuntimeError(f"moto ResponseSerializer.get_value changed signature: {params}")
    providers = tuple(p.__name__ for p in module.DEFAULT_ALIAS_PROVIDERS)
    if providers != EXPECTED_PROVIDERS:
        raise RuntimeError(f"moto's attribute alias providers changed: {providers}")
    picker = inspect.getsource(module.AttributePicker.__call__)
    if "get_value(obj, possible_key, MISSING)" not in picker or "self.response_transformers" not in picker:
        raise RuntimeError("moto AttributePicker.__call__ no longer tries its possible keys in order with get_value")


def installed() -> bool:
    return getattr(serialize_module().ResponseSerializer.get_value, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (moto's serializer classes are)."""
    if installed():
        return
    check_compatible()
    cls = serialize_module().ResponseSerializer
    cls.get_value = _remembering(cls.get_value)


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
