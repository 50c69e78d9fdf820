"""Resolving CloudFormation intrinsic functions against the local stack.

`!Ref`/`!GetAtt` of a resource ask a `RefProvider` (the local resources: a queue's moto URL, a
table's name, ...); `!Ref` of a parameter gives its override or Default; pseudo parameters are
fixed dev values. Everything that needs a real account (`!ImportValue`, `!Cidr`, macros) raises
`UnresolvableError`, so callers decide whether that is fatal or just a skipped value.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .template import Template, TemplateError

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _NoValue:
    """`!Ref AWS::NoValue`: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class UnresolvableError(TemplateError):
    """A value depends on something the local stack does not have."""


class RefProvider(Protocol):
    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...


@dataclass(frozen=True)
class PseudoParameters:
    stack_name: str = "touchline"
    region: str = REGION
    account_id: str = ACCOUNT_ID
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def value(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise UnresolvableError(f"unknown pseudo parameter {name}")
        return values[name]


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LIST_TYPES = ("CommaDelimitedList", "List<")


class Resolver:
    """Resolves intrinsics in template values; `resources` may be None before they exist."""

    def __init__(
        self,
        template: Template,
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        pseudo: PseudoParameters | None = None,
        resources: RefProvider | None = None,
    ) -> None:
        self.template = template
        self.pseudo = pseudo or PseudoParameters()
        self.resources = resources
        overrides = dict(parameter_overrides or {})
        unknown = sorted(set(overrides) - set(template.parameters))
        if unknown:
            raise TemplateError(
                f"parameter overrides for parameters the template lacks: {', '.join(unknown)}"
            )
        self._overrides = overrides
        self._conditions: dict[str, bool] = {}

    # ------------------------------------------------------------------ parameters and conditions

    def parameter(self, name: str) -> Any:
        """A parameter's value as CloudFormation passes it: a string, or a list for list types."""
        declared = self.template.parameters.get(name)
        if declared is None:
            raise UnresolvableError(f"no parameter or resource named {name}")
        if name in self._overrides:
            raw: Any = self._overrides[name]
        elif "Default" in declared:
            raw = declared["Default"]
        else:
            raise UnresolvableError(f"parameter {name} has no Default and no override")
        kind = str(declared.get("Type", "String"))
        if kind.startswith(_LIST_TYPES):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return [_scalar_text(item).strip() for item in items]
        text = _scalar_text(raw)
        _check_parameter(name, declared, text)
        return text

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = self._condition_value(self.template.conditions[name])
        return self._conditions[name]

    def _condition_value(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return _scalar_text(left) == _scalar_text(right)
            if key == "Fn::Not":
                return not self._condition_value(arg[0])
            if key == "Fn::And":
                return all(self._condition_value(v) for v in arg)
            if key == "Fn::Or":
                return any(self._condition_value(v) for v in arg)
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return resolved
        raise TemplateError(f"not a condition: {value!r}")

    # ------------------------------------------------------------------ values

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`; `AWS::NoValue` entries are dropped."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref":
                return self._ref(str(arg))
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if isinstance(key, str) and key.startswith("Fn::"):
                return self._function(key, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo.value(name)
        if name in self.template.parameters:
            return self.parameter(name)
        if name in self.template.resources:
            if self.resources is None:
                raise UnresolvableError(f"!Ref {name}: resources are not created yet")
            return self.resources.ref(name)
        raise UnresolvableError(f"!Ref {name}: no such parameter or resource")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.template.resources:
            raise UnresolvableError(f"!GetAtt {logical_id}.{attribute}: no such resource")
        if self.resources is None:
            raise UnresolvableError(f"!GetAtt {logical_id}.{attribute}: resources are not created yet")
        return self.resources.get_att(logical_id, attribute)

    def _function(self, name: str, arg: Any) -> Any:
        if name == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else self.resolve(arg)
            if len(parts) != 2:
                raise TemplateError(f"Fn::GetAtt needs [LogicalId, Attribute], got {arg!r}")
            return self._get_att(str(parts[0]), str(parts[1]))
        if name == "Fn::Sub":
            return self._sub(arg)
        if name == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(str(condition)) else when_false)
        if name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._condition_value({name: arg})
        args = self.resolve(arg)
        if name == "Fn::Join":
            delimiter, items = args
            return str(delimiter).join(_scalar_text(item) for item in _as_list(items))
        if name == "Fn::Select":
            index, items = args
            return _as_list(items)[int(index)]
        if name == "Fn::Split":
            delimiter, text = args
            return str(text).split(str(delimiter))
        if name == "Fn::FindInMap":
            map_name, top, second = args[:3]
            try:
                return self.template.mappings[map_name][top][second]
            except KeyError:
                if len(args) > 3 and isinstance(args[3], dict) and "DefaultValue" in args[3]:
                    return args[3]["DefaultValue"]
                raise UnresolvableError(f"Fn::FindInMap {map_name}/{top}/{second}: not in Mappings") from None
        if name == "Fn::Base64":
            return base64.b64encode(str(args).encode()).decode()
        if name == "Fn::GetAZs":
            return [f"{self.pseudo.region}{zone}" for zone in "abc"]
        if name == "Fn::Length":
            return len(_as_list(args))
        if name == "Fn::ToJsonString":
            return json.dumps(args, separators=(",", ":"))
        raise UnresolvableError(f"{name} cannot be resolved locally")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1] if len(arg) > 1 else {})
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub needs a string, got {text!r}")

        def replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return _scalar_text(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                logical_id, attribute = expr.split(".", 1)
                return _scalar_text(self._get_att(logical_id, attribute))
            return _scalar_text(self._ref(expr))

        return _SUB_VARIABLE.sub(replace, text)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return value.split(",")
    raise TemplateError(f"expected a list, got {value!r}")


def _scalar_text(value: Any) -> str:
    """CloudFormation's string form of a scalar: booleans are lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        raise TemplateError(f"expected a scalar, got {value!r}")
    return str(value)


def _check_parameter(name: str, declared: Mapping[str, Any], text: str) -> None:
    """The checks CloudFormation makes on a parameter value, so a bad override fails here too."""
    allowed = declared.get("AllowedValues")
    if allowed is not None and text not in [_scalar_text(v) for v in allowed]:
        raise TemplateError(f"parameter {name}={text!r} is not one of {allowed}")
    pattern = declared.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), text):
        raise TemplateError(f"parameter {name}={text!r} does not match {pattern}")
    if declared.get("Type") == "Number":
        try:
            number = float(text)
        except ValueError:
            raise TemplateError(f"parameter {name}={text!r} is not a number") from None
        low, high = declared.get("MinValue"), declared.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise TemplateError(f"parameter {name}={text!r} is outside [{low}, {high}]")
