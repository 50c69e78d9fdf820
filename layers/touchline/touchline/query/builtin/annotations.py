"""`include: {"annotations": true}`: the site's annotations on the queried days in `meta`.

Registered here so the parser accepts it; `touchline.query.api` fills it after the engine, from
the config table (docs/accounts.md, "Annotations"), since the engine's cache only knows the
warehouse's data version.
"""

from __future__ import annotations

from touchline.query.errors import QueryError
from touchline.query.model import Query
from touchline.query.registry import REGISTRY, IncludeOption


def _boolean(query: Query) -> None:
    value = dict(query.include.extra).get("annotations")
    if not isinstance(value, bool):
        raise QueryError(
            f"#/include/annotations: Type mismatch. Expected Boolean but got {type(value).__name__}."
        )


REGISTRY.include(
    IncludeOption(
        "annotations", None, _boolean, "The site's annotations (dated notes) within the date range."
    )
)
