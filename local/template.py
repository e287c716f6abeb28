"""A SAM template as the local stack sees it: the CloudFormation that the SAM transform makes of it (local.
sam_transform), its Parameters, Conditions and Mappings resolved, intrinsic functions evaluated against the
LOCAL physical values of resources."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

from local.cfn_yaml import load_template
from local.intrinsics import NO_VALUE, Resolver
from local.sam_transform import transform

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account


def read_samconfig(root: Path, env_name: str) -> tuple[dict[str, str], str | None]:
    """parameter_overrides and stack_name of one samconfig.toml environment (any command's section)."""
    path = root / "samconfig.toml"
    if not path.exists():
        return {}, None
    section = tomllib.loads(path.read_text(encoding="utf-8")).get(env_name, {})
    tables = [section] + [cmd.get("parameters", {}) for cmd in section.values() if isinstance(cmd, dict)]
    overrides: dict[str, str] = {}
    stack_name = None
    for table in tables:
        overrides.update(parse_overrides(table.get("parameter_overrides", "")))
        stack_name = table.get("stack_name", stack_name)
    return overrides, stack_name


def parse_overrides(raw: str | list[str] | dict[str, str]) -> dict[str, str]:
    """'A=1 B="two words"' (or a list of such items, or a dict) as samconfig and `sam deploy` accept it."""
    if isinstance(raw, dict):
        return {k: str(v) for k, v in raw.items()}
    items = raw if isinstance(raw, list) else shlex.split(raw)
    result = {}
    for item in items:
        if item.startswith("ParameterKey="):  # ParameterKey=K,ParameterValue=V
            parts = dict(p.split("=", 1) for p in item.split(","))
            result[parts["ParameterKey"]] = parts.get("ParameterValue", "")
        elif "=" in item:
            key, value = item.split("=", 1)
            result[key] = value
    return result


class Template:
    def __init__(self, path: str | Path, parameter_overrides: dict[str, str] | None = None,
                 env_name: str = "local", stack_name: str | None = None) -> None:
        self.path = Path(path).resolve()
        self.root = self.path.parent
        self.doc = load_template(self.path)
        self.sam: dict[str, Any] = self.doc.get("Resources", {})  # as written: SAM Events and Auth (gateway, keys)
        config_overrides, config_stack = read_samconfig(self.root, env_name)
        self.stack_name = stack_name or config_stack or self.root.name or "local"
        self.region, self.account_id = REGION, ACCOUNT_ID
        self.parameters = self._parameters({**config_overrides, **(parameter_overrides or {})})
        self.cfn = transform(self.doc, self.parameters, self.region, self.root)  # what CloudFormation would create
        self.resources: dict[str, Any] = self.cfn["Resources"]
        self.mappings = self.cfn.get("Mappings", {})
        self.physical: dict[str, dict[str, Any]] = {}  # logical id -> {"Ref": ..., "<Attr>": ...}
        self.resolver = Resolver(self)
        self.conditions: dict[str, bool] = {}
        for name in self.cfn.get("Conditions", {}):
            self.condition(name)
        self._check_rules()

    # --- parameters, conditions ----------------------------------------------------------------------
    def _parameters(self, overrides: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in self.doc.get("Parameters", {}).items():
            value = overrides.get(name, spec.get("Default"))
            if value is None:
                raise ValueError(f"parameter {name} has no Default and no override")
            if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
            else:
                value = str(value)
            values[name] = value
        return values

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolver.resolve(self.cfn["Conditions"][name]))
        return self.conditions[name]

    def _check_rules(self) -> None:
        """The template's Rules refuse parameter values before anything is created, as CloudFormation does."""
        for name, rule in self.cfn.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.resolver.resolve(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self.resolver.resolve(assertion["Assert"]):
                    raise ValueError(f"rule {name}: {assertion.get('AssertDescription', 'assertion failed')}")

    def pseudo(self) -> dict[str, Any]:
        return {"AWS::Region": self.region, "AWS::AccountId": self.account_id, "AWS::StackName": self.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": NO_VALUE,
                "AWS::NotificationARNs": []}

    # --- resources --------------------------------------------------------------------------------------
    def active(self) -> dict[str, dict[str, Any]]:
        """Resources whose Condition holds, in dependency order (a resource after everything it references)."""
        live = {lid: r for lid, r in self.resources.items() if "Condition" not in r or self.condition(r["Condition"])}
        ordered: dict[str, dict[str, Any]] = {}

        def visit(lid: str, trail: tuple[str, ...]) -> None:
            if lid in ordered or lid not in live or lid in trail:
                return
            for dep in sorted(self.resolver.references(live[lid]) | set(_as_list(live[lid].get("DependsOn")))):
                visit(dep, (*trail, lid))
            ordered[lid] = live[lid]

        for lid in live:
            visit(lid, ())
        return ordered

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """The active resources of these types (tests/operator_env.py finds the DLQs with it)."""
        return {lid: r for lid, r in self.active().items() if r.get("Type") in types}

    def props(self, logical_id: str) -> dict[str, Any]:
        """The resolved Properties of one resource (resolve after what it references has been provisioned)."""
        return self.resolver.resolve(self.resources[logical_id].get("Properties", {}))

    def resolve(self, value: Any) -> Any:
        return self.resolver.resolve(value)

    def api_of(self, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The SAM Api an Api event names (`RestApiId: !Ref X`) and its Properties as written ("", {}: implicit)."""
        ref = event.get("RestApiId")
        api_id = str(ref.get("Ref")) if isinstance(ref, dict) else ""
        return api_id, self.sam.get(api_id, {}).get("Properties", {})

    def name_for(self, logical_id: str, given: str | None = None, suffix: str = "") -> str:
        """The physical name: the template's own name if it gives one, else <stack>-<LogicalId> like CloudFormation."""
        return given or f"{self.stack_name}-{logical_id}{suffix}"

    def local_path(self, relative: str | Path) -> Path:
        return (self.root / relative).resolve()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
