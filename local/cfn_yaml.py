"""YAML loading for CloudFormation/SAM templates: samtranslator's constructor (the one `sam` and the AWS CLI use)
turns every short-form tag (!Ref, !GetAtt, !Sub, ...) into its long-form dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import intrinsics_multi_constructor


class TemplateLoader(yaml.SafeLoader):
    """A SafeLoader of its own (samtranslator's yaml_parse would add the tags to every SafeLoader of the process)
    that refuses a key given twice in one mapping: plain YAML keeps the last one silently (a second
    `Conditions:` would drop the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


TemplateLoader.add_multi_constructor("!", intrinsics_multi_constructor)
# CloudFormation templates may hold timestamp-looking strings (e.g. policy versions); keep them as text
TemplateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=TemplateLoader)  # noqa: S506 - TemplateLoader is a SafeLoader  # nosec B506
