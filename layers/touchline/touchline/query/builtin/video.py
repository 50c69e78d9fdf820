"""The video view of the query API (docs/video.md): `video_events FINAL` in the date range.

Per content: `video_plays` (playback sessions that started it), `video_completions`,
`video_completion_rate`, `video_watch_time` (seconds: per playback and content, the furthest
position its content events reached, at most its length) and `video_viewers`; per ad:
`video_ad_impressions` (Video Ad Started) and `video_ad_completions`.
"""

from __future__ import annotations

from typing import Any

from touchline.query.builtin.tables import range_clause, site_clause
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender

KIND = "video"
CONTENT_STARTED = "v.category = 'content' AND v.action = 'started'"
CONTENT_COMPLETED = "v.category = 'content' AND v.action = 'completed'"
PLAY = "(v.video_session_id, v.content_asset_id)"


class VideoTable:
    name = "video"
    alias = "v"
    time_column = "v.at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = f"SELECT * FROM video_events FINAL WHERE {site_clause(ctx)} AND {range_clause(ctx, 'at')}"
        return f"FROM ({inner}) AS v WHERE {where}"


REGISTRY.table(VideoTable())

for _name, _column, _description in (
    ("video:content", "v.content_asset_id", "The content asset (asset_id of content events)."),
    ("video:title", "v.title", "The content's (or, on ad events, the ad's) title."),
    ("video:program", "v.program", "The program (series) of the content."),
    ("video:ad", "v.ad_asset_id", "The ad asset."),
    ("video:ad_type", "v.ad_type", "pre-roll, mid-roll or post-roll."),
    ("video:player", "v.video_player", "The player (youtube, vimeo, …) on playback events."),
    ("video:livestream", "if(v.livestream = 1, 'true', 'false')", "Whether the content is live."),
):
    REGISTRY.dimension(Dimension(_name, KIND, {"video": _column}, description=_description))


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _float(value: Any, _ctx: MetricRender) -> Any:
    return None if value is None else round(float(value), 4)


def _metric(name: str, expression: str, render: Any, description: str) -> None:
    def sql(m: MetricContext) -> str:
        return m.agg("video", expression)

    REGISTRY.metric(Metric(name, KIND, sql, render, description=description, tables=("video",)))


_plays = f"uniqExactIf({PLAY}, {CONTENT_STARTED})"
_completions = f"uniqExactIf({PLAY}, {CONTENT_COMPLETED})"
_metric("video_plays", _plays, _int, "Content plays: playback sessions that started the content.")
_metric("video_completions", _completions, _int, "Content plays that reached Video Content Completed.")
_metric(
    "video_completion_rate",
    f"if({_plays} = 0, NULL, least(1, {_completions} / {_plays}))",
    _float,
    "Completions over plays (0 to 1).",
)
_metric(
    "video_watch_time",
    # maxMap keeps, per play, the furthest position reached; their sum is the time watched.
    "arraySum(mapValues(maxMapIf(map(concat(v.video_session_id, '/', v.content_asset_id), "
    "if(v.total_length > 0, least(v.position, v.total_length), v.position)), v.category = 'content')))",
    _float,
    "Seconds of content watched: per play, the furthest position reached (seeking ahead counts).",
)
_metric(
    "video_viewers", f"uniqExactIf(v.visitor_id, {CONTENT_STARTED})", _int, "Visitors who started a content."
)
_metric(
    "video_ad_impressions",
    "countIf(v.category = 'ad' AND v.action = 'started')",
    _int,
    "Ads started (Video Ad Started).",
)
_metric(
    "video_ad_completions",
    "countIf(v.category = 'ad' AND v.action = 'completed')",
    _int,
    "Ads played to the end (Video Ad Completed).",
)
