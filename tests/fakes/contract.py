"""A provider's published OpenAPI document as a request checker: what the real API refuses, the
fakes refuse (tests/payloads/apis, sources in its README).

For each request: the path must be one of the document's operations for that method; every query
parameter must be declared (unknown ones are refused, as JSON:API servers do), of its type, within
its bounds and enums (arrays are comma-separated, `explode: false`); required parameters and
headers (Klaviyo's `revision`) must be there; a JSON body must validate against the operation's
request schema (OpenAPI 3.0 semantics, `nullable` included) and, when `closed_objects` is set,
carry no property the schema does not name. Provider-specific rules the document states only in
prose (Klaviyo's allowed filter operators per field) are parsed from that prose by the fake.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakes.server import Request

APIS = Path(__file__).resolve().parent.parent / "payloads" / "apis"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", ""))

    def parameters(self, location: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p.get("in") == location}


@dataclass
class Contract:
    document: dict[str, Any]
    trailing_slash: bool = True  # the path may end in `/` (Klaviyo documents both)
    closed_objects: bool = False  # objects take only the properties their schema names
    # Body schema overrides by operation id, each written down in tests/payloads/apis/README.md.
    overlays: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: list[Operation] = field(init=False)

    def __post_init__(self) -> None:
        self.operations = []
        for template, item in self.document["paths"].items():
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            pattern = re.compile(f"^{regex}{'/?' if self.trailing_slash else ''}$")
            for method, spec in item.items():
                if isinstance(spec, dict) and "operationId" in spec:
                    self.operations.append(Operation(method.upper(), template, pattern, spec))

    @classmethod
    def load(cls, name: str, **options: Any) -> Contract:
        return cls(json.loads((APIS / name).read_text()), **options)

    def find(self, method: str, path: str) -> Operation | None:
        return next((o for o in self.operations if o.method == method and o.pattern.match(path)), None)

    def problems(self, request: Request) -> list[str]:
        """Why the real API would refuse this request (empty: it would accept it)."""
        operation = self.find(request.method, request.path)
        if operation is None:
            return [f"{request.method} {request.path} is not an operation of {self.title}"]
        found = self._query(operation, request) + self._headers(operation, request)
        if request.method in ("POST", "PUT", "PATCH"):
            found += self._body(operation, request)
        return found

    def response_problems(
        self, method: str, path: str, status: int, body: Any, sparse: bool = False
    ) -> list[str]:
        """Why this answer is not one the document describes (for a document cut `--responses`).

        `sparse`: the request asked for JSON:API sparse fieldsets (`fields[type]=…`), so a
        resource's `attributes` hold only those and the document's required attributes are not.
        A `oneOf` an answer matches more than once counts as matched: Klaviyo's `send_options` are
        Email/SMS/Push options that all accept `{"use_smart_sending": true}`, so a real campaign
        matches all three."""
        operation = self.find(method, path)
        if operation is None:
            return [f"{method} {path} is not an operation of {self.title}"]
        responses = operation.spec.get("responses") or {}
        spec = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if spec is None:
            return [f"{method} {path}: status {status} is not a documented answer"]
        content = self._resolve(spec).get("content") or {}
        schema = next(iter(content.values()), {}).get("schema")
        if schema is None:
            return []
        from openapi_schema_validator import OAS30Validator

        validator = OAS30Validator(self._inline(schema))
        return [
            f"{status} body{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message[:200]}"
            for error in validator.iter_errors(body)
            if not (
                sparse and error.validator == "required" and list(error.absolute_path)[-1:] == ["attributes"]
            )
            and not (error.validator == "oneOf" and "is valid under each of" in error.message)
        ]

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", "the API"))

    # ------------------------------------------------------------------ parts

    def _query(self, operation: Operation, request: Request) -> list[str]:
        declared = operation.parameters("query")
        found = [f"unknown query parameter {name!r}" for name in request.query if name not in declared]
        for name, parameter in declared.items():
            values = request.query.get(name)
            if not values:
                if parameter.get("required"):
                    found.append(f"query parameter {name!r} is required")
                continue
            if len(values) > 1:
                found.append(f"query parameter {name!r} given {len(values)} times")
            found += [f"{name}: {p}" for p in self._value(values[0], self._resolve(parameter["schema"]))]
        return found

    def _headers(self, operation: Operation, request: Request) -> list[str]:
        found = []
        for name, parameter in operation.parameters("header").items():
            value = request.headers.get(name.lower())
            if value is None:
                if parameter.get("required"):
                    found.append(f"header {name!r} is required")
                continue
            found += [f"header {name}: {p}" for p in self._value(value, self._resolve(parameter["schema"]))]
        return found

    def _value(self, text: str, schema: dict[str, Any]) -> list[str]:
        kind = schema.get("type")
        if kind == "array":
            item = self._resolve(schema.get("items", {}))
            return [p for part in text.split(",") for p in self._value(part, item)]
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", text):
                return [f"{text!r} is not an integer"]
            number = int(text)
            if "minimum" in schema and number < schema["minimum"]:
                return [f"{number} is below the minimum {schema['minimum']}"]
            if "maximum" in schema and number > schema["maximum"]:
                return [f"{number} is above the maximum {schema['maximum']}"]
            return []
        if "enum" in schema and text not in schema["enum"]:
            return [f"{text!r} is not one of {schema['enum']}"]
        return []

    def _body(self, operation: Operation, request: Request) -> list[str]:
        from openapi_schema_validator import OAS30Validator

        content = (operation.spec.get("requestBody") or {}).get("content") or {}
        if not content:
            return [] if not request.body else ["this operation takes no body"]
        media = next(iter(content.values()))
        schema = self.overlays.get(operation.operation_id) or media.get("schema") or {}
        try:
            body = json.loads(request.body or b"null")
        except ValueError as exc:
            return [f"body is not JSON: {exc}"]
        resolved = self._inline(schema)
        validator = OAS30Validator(resolved)
        found = [
            f"body{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(body)
        ]
        if self.closed_objects:
            found += self._unknown_properties(body, resolved, "body")
        return found

    def _unknown_properties(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        schema = self._merged(schema, value)
        if isinstance(value, dict) and "properties" in schema:
            found = [
                f"{where}: {name!r} is not a property of this request"
                for name in value
                if name not in schema["properties"]
            ]
            for name, inner in value.items():
                if name in schema["properties"]:
                    found += self._unknown_properties(inner, schema["properties"][name], f"{where}.{name}")
            return found
        if isinstance(value, list) and "items" in schema:
            return [
                p
                for i, v in enumerate(value)
                for p in self._unknown_properties(v, schema["items"], f"{where}[{i}]")
            ]
        return []

    def _merged(self, schema: dict[str, Any], value: Any) -> dict[str, Any]:
        """`allOf` merged; of `oneOf`/`anyOf` the first alternative naming all the value's keys."""
        for key in ("oneOf", "anyOf"):
            if key in schema and isinstance(value, dict):
                for option in schema[key]:
                    option = self._merged(option, value)
                    if set(value) <= set(option.get("properties", {})):
                        return option
                return {}
        if "allOf" in schema:
            merged: dict[str, Any] = {"properties": {}}
            for part in schema["allOf"]:
                merged["properties"].update(self._merged(part, value).get("properties", {}))
            return merged
        return schema

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            _, section, name = schema["$ref"].rsplit("/", 2)
            schema = self.document["components"][section][name]
        return schema

    def _inline(self, schema: Any) -> Any:
        if isinstance(schema, dict):
            if "$ref" in schema:
                return self._inline(self._resolve(schema))
            return {k: self._inline(v) for k, v in schema.items()}
        if isinstance(schema, list):
            return [self._inline(v) for v in schema]
        return schema


def refusal_text(problems: list[str]) -> str:
    return "; ".join(problems[:5])
