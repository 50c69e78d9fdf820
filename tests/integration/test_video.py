"""Video end to end in process: tracking API → loader → `video_events` → the query API's video
metrics, fed with the example lifecycle of Segment's Video Spec (tests/payloads/specs)."""

from __future__ import annotations

import json
from typing import Any

from tracking_pipeline import SPECS, Pipeline


def calls(user: str, steps: list[dict[str, Any]], session: str, minute: int = 0) -> list[dict[str, Any]]:
    """The steps as the tracking API receives them, ten seconds apart."""
    return [
        {
            "type": "track",
            "userId": user,
            "event": step["event"],
            "properties": {**step["properties"], "session_id": session},
            "messageId": f"{session}-{i}",
            "timestamp": f"2026-11-20T10:{minute + i * 10 // 60:02d}:{i * 10 % 60:02d}Z",
        }
        for i, step in enumerate(steps)
    ]


LIFECYCLE: list[dict[str, Any]] = json.loads((SPECS / "segment-video-lifecycle.json").read_text())
METRICS = [
    "video_plays",
    "video_completions",
    "video_completion_rate",
    "video_watch_time",
    "video_viewers",
    "video_ad_impressions",
    "video_ad_completions",
]


def test_the_published_lifecycle_is_one_complete_play_and_two_ads(pipeline: Pipeline) -> None:
    assert pipeline.send(calls("userId", LIFECYCLE, "12345"))["accepted"] == 16
    pipeline.deliver()
    rows = pipeline.sql(
        "SELECT category, action, content_asset_id, ad_asset_id, position FROM video_events FINAL "
        "WHERE site_id = {site:String} ORDER BY at"
    )
    assert len(rows) == 16  # delivered three times, stored once
    assert rows[0] == ("playback", "started", "0129370", "ad123", 0.0)  # the plural ids' first
    assert rows[1] == ("content", "started", "0129370", "", 0.0)
    assert rows[6] == ("ad", "started", "", "ad123", 0.0)
    assert rows[-1] == ("playback", "completed", "", "ad907", 392.0)
    assert pipeline.query(metrics=METRICS) == [{"metrics": [1, 1, 1.0, 360.0, 1, 2, 2], "dimensions": []}]


def test_plays_completion_rate_and_watch_time_per_content(pipeline: Pipeline) -> None:
    content = [s for s in LIFECYCLE if s["event"].startswith("Video Content")]
    started, playing = content[0], content[1]
    partial = [
        started,
        {**playing, "properties": {**playing["properties"], "position": 10}},
        {**playing, "properties": {**playing["properties"], "position": 20}},
        {
            "event": "Video Playback Interrupted",
            "properties": {"content_asset_id": "0129370", "position": 21},
        },
    ]
    retitled = {"asset_id": "x9", "title": "Other", "total_length": 50}
    other = [
        {**started, "properties": {**started["properties"], **retitled}},
        {**playing, "properties": {**playing["properties"], **retitled, "position": 80}},
    ]
    batch = calls("ann", LIFECYCLE, "s1") + calls("bob", partial, "s2", 10) + calls("bob", other, "s3", 20)
    assert pipeline.send(batch)["accepted"] == len(batch)
    pipeline.deliver()
    per_title = pipeline.query(
        metrics=[
            "video_plays",
            "video_completions",
            "video_completion_rate",
            "video_watch_time",
            "video_viewers",
        ],
        dimensions=["video:title"],
        # Only content events carry a content's title (playback and ad events have none or the ad's).
        filters=[["is_not", "video:content", [""]], ["is_not", "video:title", [""]]],
        order_by=[["video:title", "asc"]],
    )
    assert [(r["dimensions"][0], *r["metrics"]) for r in per_title] == [
        ("Interview with Tony Robbins", 2, 1, 0.5, 380.0, 2),  # 360 s + 20 s
        ("Other", 1, 0, 0.0, 50.0, 1),  # a position past the length counts as the length
    ]
