"""CloudFormation intrinsic functions, evaluated against a template's parameters and local physical values."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.template import Template

NO_VALUE = object()  # AWS::NoValue: the key or list item disappears
_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")
_SERVICE_BY_TYPE = {"SQS": "sqs", "SNS": "sns", "DynamoDB": "dynamodb", "Events": "events", "Lambda": "lambda",
                    "StepFunctions": "states", "SecretsManager": "secretsmanager",
                    "S3": "s3", "Logs": "logs", "IAM": "iam", "KMS": "kms"}


class Resolver:
    def __init__(self, template: Template) -> None:
        self.template = template

    # --- what a value refers to ---------------------------------------------------------------------------
    def references(self, value: Any) -> set[str]:
        """Logical ids of resources that value references (Ref, GetAtt, Sub)."""
        found: set[str] = set()
        resources = self.template.resources
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "Ref" and isinstance(inner, str) and inner in resources:
                    found.add(inner)
                elif key == "Fn::GetAtt" and isinstance(inner, list) and inner and inner[0] in resources:
                    found.add(inner[0])
                elif key == "Fn::Sub":
                    text = inner[0] if isinstance(inner, list) else inner
                    local_vars = inner[1] if isinstance(inner, list) and len(inner) > 1 else {}
                    for name in _SUB_VAR.findall(text if isinstance(text, str) else ""):
                        head = name.split(".")[0]
                        if head in resources and head not in local_vars:
                            found.add(head)
                    found |= self.references(local_vars)
                else:
                    found |= self.references(inner)
        elif isinstance(value, list):
            for inner in value:
                found |= self.references(inner)
        return found

    # --- evaluation -----------------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.template.condition(arg)
            if key.startswith("Fn::"):
                return self._fn(key[4:], arg)
        result = {}
        for key, inner in value.items():
            resolved = self.resolve(inner)
            if resolved is not NO_VALUE:
                result[key] = resolved
        return result

    def ref(self, name: str) -> Any:
        template = self.template
        if name in template.parameters:
            return template.parameters[name]
        pseudo = template.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in template.physical:
            return template.physical[name]["Ref"]
        if name in template.resources:
            return template.name_for(name)
        raise KeyError(f"Ref to unknown name {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        template = self.template
        known = template.physical.get(logical_id, {})
        if attribute in known:
            return known[attribute]
        if logical_id not in template.resources:
            raise KeyError(f"GetAtt of unknown resource {logical_id!r}")
        # a resource the local stack does not create: give a well-formed value so wiring still resolves
        resource_type = template.resources[logical_id].get("Type", "")
        service = _SERVICE_BY_TYPE.get(resource_type.split("::")[1] if "::" in resource_type else "", "local")
        name = known.get("Ref", template.name_for(logical_id))
        if attribute.endswith("Arn"):
            return f"arn:aws:{service}:{template.region}:{template.account_id}:{name}"
        return name

    def _fn(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(logical_id, self.resolve(attribute))
        if name == "Sub":
            return self._sub(arg)
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.template.condition(condition) else when_false)
        args = self.resolve(arg)
        if name == "Join":
            separator, items = args
            return separator.join(str(i) for i in items)
        if name == "Select":
            index, items = args
            return items[int(index)]
        if name == "Split":
            separator, text = args
            return text.split(separator)
        if name == "FindInMap":
            mapping, top, second = args[:3]
            try:
                return self.template.mappings[mapping][top][second]
            except KeyError:
                if len(args) > 3 and isinstance(args[3], dict) and "DefaultValue" in args[3]:
                    return args[3]["DefaultValue"]
                raise
        if name == "Equals":
            return str(args[0]) == str(args[1])
        if name == "Not":
            return not args[0]
        if name == "And":
            return all(args)
        if name == "Or":
            return any(args)
        if name == "Base64":
            return base64.b64encode(str(args).encode()).decode()
        if name == "GetAZs":
            return [f"{self.template.region}{zone}" for zone in "abc"]
        if name == "ToJsonString":
            return json.dumps(args, separators=(",", ":"))
        if name == "Length":
            return len(args)
        raise NotImplementedError(f"Fn::{name} is not supported by the local stack")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], self.resolve(arg[1]) if len(arg) > 1 else {}) if isinstance(arg, list) else (arg, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".")[0] in self.template.resources:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            value = self.ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        return _SUB_VAR.sub(replace, text).replace("${!", "${")
