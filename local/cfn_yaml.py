"""YAML loading for CloudFormation/SAM templates: short-form tags become their long-form dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_FN_TAGS = ("Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
            "Transform", "And", "Equals", "If", "Not", "Or", "ToJsonString", "Length")


class TemplateLoader(yaml.SafeLoader):
    """SafeLoader that understands !Ref, !GetAtt, !Condition and every !Fn short form, and refuses a key given
    twice in one mapping (plain YAML keeps the last one silently: a second `Conditions:` would drop the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct(node: yaml.Node, loader: TemplateLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _fn(name: str):
    def construct(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
        return {name: _construct(node, loader)}
    return construct


def _get_att(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):
        # "Resource.Attr.With.Dots": the logical id never contains a dot
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


TemplateLoader.add_constructor("!Ref", _fn("Ref"))
TemplateLoader.add_constructor("!Condition", _fn("Condition"))
TemplateLoader.add_constructor("!GetAtt", _get_att)
for _tag in _FN_TAGS:
    TemplateLoader.add_constructor(f"!{_tag}", _fn(f"Fn::{_tag}"))
# CloudFormation templates may hold timestamps-looking strings (e.g. versions); keep them as text
TemplateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=TemplateLoader)  # noqa: S506 - TemplateLoader is a SafeLoader  # nosec B506
