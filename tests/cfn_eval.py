"""A template's values as CloudFormation would resolve them for given parameters (issue 27).

Only the intrinsics the generated templates use: Ref, Fn::Sub (string form, `${!x}` kept), Fn::Join,
Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And with {"Condition": name} (issue 27, item 7), and
AWS::NoValue dropping a list item or a key. A
CommaDelimitedList parameter is a list; an empty one is `[""]`, as CloudFormation gives it.
"""

from __future__ import annotations

import re
from typing import Any

_NO_VALUE = object()


class Resolver:
    def __init__(self, template: dict[str, Any], params: dict[str, Any]) -> None:
        self.params = {"AWS::Partition": "aws", "AWS::NoValue": _NO_VALUE, **params}
        for name, spec in template.get("Parameters", {}).items():
            if name not in self.params and "Default" in spec:
                default = spec["Default"]
                self.params[name] = default.split(",") if spec["Type"] == "CommaDelimitedList" else default
        self.conditions: dict[str, bool] = {}
        for name, expr in template.get("Conditions", {}).items():  # a condition may name an earlier one
            self.conditions[name] = bool(self(expr))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.params[arg]
            if fn == "Fn::Sub":
                # `${!Name}` is the literal `${Name}` (a policy variable), not a substitution.
                return re.sub(
                    r"\$\{(!?)([^}]+)\}",
                    lambda m: "${" + m.group(2) + "}" if m.group(1) else str(self.params[m.group(2)]),
                    arg,
                )
            if fn == "Fn::Join":
                return arg[0].join(str(v) for v in self(arg[1]))
            if fn == "Fn::Split":
                return self(arg[1]).split(arg[0])
            if fn == "Fn::If":
                return self(arg[1] if self.conditions[arg[0]] else arg[2])
            if fn == "Fn::Equals":
                return self(arg[0]) == self(arg[1])
            if fn == "Fn::Not":
                return not self(arg[0])
            if fn == "Fn::And":
                return all(self(a) for a in arg)
            if fn == "Condition":
                return self.conditions[arg]
            if fn == "Fn::Contains":  # template Rules: a string is one of a list's values
                return self(arg[1]) in self(arg[0])
        items = {k: self(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _NO_VALUE}


def role_policies(template: dict[str, Any], params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every inline policy of the template's roles, resolved: {LOGICAL/POLICY: document}."""
    resolve = Resolver(template, params)
    out = {}
    for logical, resource in template["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            out[f"{logical}/{policy['PolicyName']}"] = resolve(policy["PolicyDocument"])
    return out


def failed_rules(template: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """The AssertDescription of every template rule assertion that does not hold (CloudFormation refuses
    the stack then, before creating anything)."""
    resolve = Resolver(template, params)
    return [
        str(a["AssertDescription"])
        for rule in template.get("Rules", {}).values()
        for a in rule["Assertions"]
        if not resolve(a["Assert"])
    ]
