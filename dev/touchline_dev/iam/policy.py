"""IAM policy evaluation: explicit deny, then allow, else implicit deny, with conditions.

Covers what Lambda execution roles use: `Action`/`NotAction`, `Resource`/`NotResource` with `*`
and `?` wildcards, and the string, ARN, boolean, numeric and `Null` condition operators with
their `ForAllValues:`/`ForAnyValue:` qualifiers and `IfExists` suffix, by the rules of
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html.
An operator it does not know is an error, never a silent allow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


class PolicyError(ValueError):
    """A policy uses something this evaluator cannot judge."""


@dataclass(frozen=True)
class Request:
    """One authorisation question: may the caller do `action` on `resource`?"""

    action: str  # service:Operation, e.g. dynamodb:PutItem
    resource: str  # an ARN, or "*"
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)  # condition keys → values


def allowed(documents: Iterable[Mapping[str, Any]], request: Request) -> bool:
    allow = False
    for document in documents:
        for statement in _statements(document):
            if not _applies(statement, request):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allow = allow or statement.get("Effect") == "Allow"
    return allow


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not _any_match(statement["Action"], request.action, case=False):
            return False
    elif "NotAction" in statement:
        if _any_match(statement["NotAction"], request.action, case=False):
            return False
    else:
        return False
    if "Resource" in statement:
        if not _any_match(statement["Resource"], request.resource, case=True):
            return False
    elif "NotResource" in statement and _any_match(statement["NotResource"], request.resource, case=True):
        return False
    return _conditions_hold(statement.get("Condition") or {}, request.context)


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _any_match(patterns: Any, value: str, *, case: bool) -> bool:
    return any(_wildcard(pattern, case)(value) for pattern in _listed(patterns))


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, case: bool) -> Callable[[str], re.Match[str] | None]:
    """IAM wildcards: `*` any run of characters, `?` one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", 0 if case else re.IGNORECASE).match


_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda v, p: v == p,
    "StringEqualsIgnoreCase": lambda v, p: v.lower() == p.lower(),
    "StringLike": lambda v, p: _wildcard(p, True)(v) is not None,
    "ArnEquals": lambda v, p: v == p,
    "ArnLike": lambda v, p: _wildcard(p, True)(v) is not None,
    "Bool": lambda v, p: v.lower() == p.lower(),
    "NumericEquals": lambda v, p: float(v) == float(p),
    "NumericLessThan": lambda v, p: float(v) < float(p),
    "NumericLessThanEquals": lambda v, p: float(v) <= float(p),
    "NumericGreaterThan": lambda v, p: float(v) > float(p),
    "NumericGreaterThanEquals": lambda v, p: float(v) >= float(p),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, Sequence[str]]) -> bool:
    for operator, keys in conditions.items():
        for key, expected in keys.items():
            if not _condition(operator, key.lower(), _listed(expected), context):
                return False
    return True


def _condition(operator: str, key: str, expected: list[str], context: Mapping[str, Sequence[str]]) -> bool:
    values = _context_values(key, context)
    qualifier, _, op = operator.rpartition(":")
    if op == "Null":
        return (values is None) == (expected[0].lower() == "true")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    negated = op in _NEGATED
    test = _STRING_OPS.get(_NEGATED.get(op, op))
    if test is None:
        raise PolicyError(f"condition operator {operator!r} is not supported by the local IAM check")

    def matches(value: str) -> bool:
        hit = any(test(value, pattern) for pattern in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return values is None or all(matches(v) for v in values)
    if qualifier == "ForAnyValue":
        return values is not None and any(matches(v) for v in values)
    if qualifier:
        raise PolicyError(f"condition qualifier {qualifier!r} is not supported")
    if values is None:
        return if_exists or negated
    return any(matches(v) for v in values)


def _context_values(key: str, context: Mapping[str, Sequence[str]]) -> list[str] | None:
    for name, values in context.items():
        if name.lower() == key:
            return list(values) or None
    return None
