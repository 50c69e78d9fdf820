"""Query parameters as JSON, for the local stack's `POST /_dev/sql` and the CLI that calls it.

JSON has strings, numbers, booleans, null and lists; ClickHouse parameters also need tuples,
datetimes, dates and decimals. Those travel tagged (`{"$tuple": [...]}`, `{"$datetime":
"2026-11-01T00:00:00+00:00"}`, …) and come back as the same Python values, so clickhouse-connect
binds them in the stack exactly as it would in the CLI's own process.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


class ParamsError(ValueError):
    """Parameters that are not a JSON object of encodable values."""


def encode(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(name): _encode(value) for name, value in params.items()}


def decode(payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ParamsError('"parameters" must be a JSON object of name → value')
    return {str(name): _decode(value) for name, value in payload.items()}


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list | set | frozenset):
        return [_encode(v) for v in value]
    raise ParamsError(f"cannot send a {type(value).__name__} parameter to the local stack")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) != 1:
            raise ParamsError(f"not a tagged parameter value: {value!r}")
        [(tag, inner)] = value.items()
        try:
            if tag == "$tuple":
                return tuple(_decode(v) for v in inner)
            if tag == "$datetime":
                return datetime.fromisoformat(inner)
            if tag == "$date":
                return date.fromisoformat(inner)
            if tag == "$decimal":
                return Decimal(inner)
        except (TypeError, ValueError) as exc:
            raise ParamsError(f"bad {tag} parameter value {inner!r}: {exc}") from None
        raise ParamsError(f"unknown parameter tag {tag!r}")
    return value
