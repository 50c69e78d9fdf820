"""JSON request bodies parsed with a nesting limit every route shares.

orjson parses up to 1024 levels but serialises only 254, and pydantic and our own walkers
recurse too: a body nested a few hundred levels deep parsed fine and then failed deep inside
the pipeline (a 5xx the client retried forever). No payload we accept (Plausible hits, Segment
calls, Stripe and Shopify webhooks, Stats API queries) nests beyond a dozen levels, so a body
deeper than `MAX_DEPTH` is refused up front, by the same rule on every route.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 32


class JsonBodyError(ValueError):
    """The body is not JSON, or nests deeper than `MAX_DEPTH`: the message says which."""


def loads(data: bytes | str) -> Any:
    """`orjson.loads`, refusing nesting deeper than `MAX_DEPTH` (a `JsonBodyError`)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise JsonBodyError(f"not valid JSON: {exc}") from None
    # Nesting needs an opening bracket per level: a body with few cannot be too deep (most are).
    if _brackets(data) > MAX_DEPTH and too_deep(value):
        raise JsonBodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _brackets(data: bytes | str) -> int:
    if isinstance(data, str):
        return data.count("{") + data.count("[")
    return data.count(b"{") + data.count(b"[")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests more than `limit` arrays/objects (iterative: no recursion)."""
    if not isinstance(value, dict | list):
        return False
    level: list[Any] = [value]
    for _ in range(limit):
        below: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            below.extend(item for item in items if isinstance(item, dict | list))
        if not below:
            return False
        level = below
    return True
