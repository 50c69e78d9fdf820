"""The `video_events` row of a Video Spec call (migrations/0048_video.sql, docs/video.md).

Segment's Video Spec names three families of `track` events, all tied by `session_id` (one
playback): playback (`Video Playback Started`, `… Paused`, `… Completed`, …), content
(`Video Content Started`, the 10-second `Video Content Playing` heartbeat, `… Completed`) and ads
(`Video Ad Started`, `… Playing`, `… Completed`), plus `Video Quality Updated`. Content and ad
events name their own asset in `asset_id`/`pod_id`; playback events name the current content and
ad in `content_asset_id`/`ad_asset_id` (arrays on `Video Playback Started`). The call keeps its
`events` row (a custom event, as any track); this row is what the video metrics read.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row

MAX_TEXT = 256
MAX_SECONDS = 10.0**7  # ~115 days: a position beyond is not a playhead
_NAME = re.compile(r"^video (playback|content|ad) ([a-z ]+)$")
QUALITY_UPDATED = "video quality updated"


class VideoEventRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    video_session_id: str = Field("", max_length=MAX_TEXT)
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    message_id: str = Field(min_length=1, max_length=MAX_TEXT)
    category: Literal["playback", "content", "ad", "quality"]
    action: str = Field(min_length=1, max_length=32)
    visitor_id: str = Field("", max_length=MAX_TEXT)
    user_id: str = Field("", max_length=MAX_TEXT)
    content_asset_id: str = Field("", max_length=MAX_TEXT)
    content_pod_id: str = Field("", max_length=MAX_TEXT)
    ad_asset_id: str = Field("", max_length=MAX_TEXT)
    ad_pod_id: str = Field("", max_length=MAX_TEXT)
    ad_type: str = Field("", max_length=32)
    title: str = Field("", max_length=MAX_TEXT)
    program: str = Field("", max_length=MAX_TEXT)
    season: str = Field("", max_length=64)
    episode: str = Field("", max_length=64)
    genre: str = Field("", max_length=MAX_TEXT)
    publisher: str = Field("", max_length=MAX_TEXT)
    channel: str = Field("", max_length=MAX_TEXT)
    video_player: str = Field("", max_length=64)
    quality: str = Field("", max_length=64)
    method: str = Field("", max_length=MAX_TEXT)
    position: float = Field(0.0, ge=0, le=MAX_SECONDS)
    total_length: float = Field(0.0, ge=0, le=MAX_SECONDS)
    livestream: int = Field(0, ge=0, le=1)
    full_episode: int = Field(0, ge=0, le=1)


def kind_of(event: str) -> tuple[str, str] | None:
    """(category, action) of a Video Spec event name, else None."""
    name = " ".join(event.strip().lower().split())
    if name == QUALITY_UPDATED:
        return "quality", "updated"
    match = _NAME.match(name)
    return (match[1], match[2].replace(" ", "_")) if match else None


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(value, list):  # Video Playback Started's plural ids: the first is current
        value = next((v for v in value if isinstance(v, str | int) and not isinstance(v, bool)), None)
    if value is None or isinstance(value, dict | bool):
        return ""
    return str(value).strip()[:limit]


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) and 0 <= number <= MAX_SECONDS else 0.0


def _flag(value: Any) -> int:
    return 1 if value is True or (isinstance(value, str) and value.lower() == "true") else 0


def video_row(
    site_id: str,
    *,
    event: str,
    properties: dict[str, Any],
    visitor_id: str,
    user_id: str,
    message_id: str,
    at: datetime,
) -> VideoEventRow | None:
    """The row of a Video Spec call; None for any other event."""
    kind = kind_of(event)
    if kind is None:
        return None
    category, action = kind
    p = properties
    nested = p.get("content")
    content: dict[str, Any] = nested if isinstance(nested, dict) else {}
    if category == "content":
        content_ids = (p.get("asset_id"), p.get("pod_id"))
        ad_ids: tuple[Any, Any] = (None, None)
    elif category == "ad":
        content_ids = (content.get("asset_id"), content.get("pod_id"))
        ad_ids = (p.get("asset_id"), p.get("pod_id"))
    else:
        content_ids = (
            p.get("content_asset_id", p.get("content_asset_ids")),
            p.get("content_pod_id", p.get("content_pod_ids")),
        )
        ad_ids = (p.get("ad_asset_id", p.get("ad_asset_ids")), p.get("ad_pod_id", p.get("ad_pod_ids")))
    described = content if category == "ad" else p
    return VideoEventRow(
        site_id=site_id,
        video_session_id=_text(p.get("session_id")),
        at=at,
        message_id=message_id,
        category=category,
        action=action[:32],
        visitor_id=visitor_id[:MAX_TEXT],
        user_id=user_id[:MAX_TEXT],
        content_asset_id=_text(content_ids[0]),
        content_pod_id=_text(content_ids[1]),
        ad_asset_id=_text(ad_ids[0]),
        ad_pod_id=_text(ad_ids[1]),
        ad_type=_text(p.get("type") if category == "ad" else p.get("ad_type", p.get("ad_types")), 32),
        title=_text(p.get("title")),
        program=_text(described.get("program")),
        season=_text(described.get("season"), 64),
        episode=_text(described.get("episode"), 64),
        genre=_text(described.get("genre")),
        publisher=_text(p.get("publisher")),
        channel=_text(described.get("channel")),
        video_player=_text(p.get("video_player"), 64),
        quality=_text(p.get("quality"), 64),
        method=_text(p.get("method")),
        position=_seconds(p.get("position")),
        total_length=_seconds(p.get("total_length")),
        livestream=_flag(p.get("livestream")),
        full_episode=_flag(described.get("full_episode")),
    )
