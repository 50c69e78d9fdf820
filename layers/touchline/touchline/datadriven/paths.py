"""Path aggregation in ClickHouse: journeys → distinct channel paths with their conversions and
non-conversions, per conversion kind and touches variant. This is all the models need to read.

The touches variants decide which touches a journey keeps (docs/attribution.md, "Variants"):
`clicks_only` drops Direct touches when the journey has another one; `paid_only` drops every
direct, organic and owned touch when the journey has a paid one. A journey without such a touch
keeps all of its touches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from touchline.datadriven.markov import PathCount
from touchline.enrichment import channels

PAID_CHANNELS = (
    channels.CROSS_NETWORK,
    channels.PAID_SHOPPING,
    channels.PAID_SEARCH,
    channels.PAID_SOCIAL,
    channels.PAID_VIDEO,
    channels.DISPLAY,
    channels.PAID_OTHER,
    channels.AFFILIATES,
    channels.AUDIO,
)

# Per variant: a lambda over one channel saying whether a touch is preferred; a journey with at
# least one preferred touch keeps only those.
_PREFERRED = {
    "all": None,
    "clicks_only": f"c -> c != '{channels.DIRECT}'",
    "paid_only": "c -> has({paid_channels:Array(String)}, c)",
}


def kept_mask(touches: str, column: str = "channels") -> str:
    """An Array(UInt8) expression: which touches of `column` the variant keeps."""
    preferred = _PREFERRED[touches]
    if preferred is None:
        return f"arrayMap(c -> toUInt8(1), {column})"
    return (
        f"if(arrayExists({preferred}, {column}), arrayMap({preferred}, {column}), "
        f"arrayMap(c -> toUInt8(1), {column}))"
    )


def kept_channels(touches: str, column: str = "channels") -> str:
    return f"arrayFilter((c, k) -> k = 1, {column}, {kept_mask(touches, column)})"


PATHS_SELECT = """
SELECT {path} AS path, conversion_kind, toUInt64(countIf(converted = 1)) AS conversions,
       toUInt64(countIf(converted = 0)) AS nulls
FROM journeys FINAL
WHERE site_id = {site:String} AND touch_count > 0 AND ({journey_scope})
GROUP BY path, conversion_kind
"""

QueryRows = Callable[[str, Mapping[str, Any]], list[tuple[Any, ...]]]


def path_counts(
    rows: QueryRows,
    site_id: str,
    touches: str,
    journey_scope: str = "1",
    parameters: dict[str, Any] | None = None,
) -> dict[str, list[PathCount]]:
    """Per conversion kind, the distinct paths: its converting journeys and every non-converting
    journey (the same non-conversions count for each kind)."""
    sql = PATHS_SELECT.replace("{path}", kept_channels(touches)).replace("{journey_scope}", journey_scope)
    by_kind: dict[str, list[PathCount]] = {}
    nulls: list[PathCount] = []
    bound = {**(parameters or {}), "site": site_id, "paid_channels": list(PAID_CHANNELS)}
    for path, kind, conversions, null_count in rows(sql, bound):
        if kind == "":
            nulls.append(PathCount(tuple(path), 0, int(null_count)))
        else:
            by_kind.setdefault(kind, []).append(PathCount(tuple(path), int(conversions), 0))
    return {kind: [*converted, *nulls] for kind, converted in by_kind.items()}
