"""The `events` row: what the collector and the tracking API enqueue for the `events` table."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row


class EventRow(Row):
    """One `events` row."""

    event_id: UUID
    site_id: str = Field(min_length=1, max_length=64)
    # Checked in pydantic-core (no Python validator): this runs once per row in the loader.
    timestamp: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    received_at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    ingest_source: str = "tag"
    event_type: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=256)
    visitor_id: str = ""
    user_id: str = ""
    url: str = ""
    hostname: str = ""
    pathname: str = ""
    page_title: str = ""
    referrer: str = ""
    referrer_source: str = ""
    channel: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    utm_term: str = ""
    click_id: str = ""
    click_id_type: str = ""
    device_type: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    screen_width: int = Field(0, ge=0, le=65535)
    country: str = ""
    region: str = ""
    city: str = ""
    revenue: Decimal | None = Field(None, max_digits=18, decimal_places=4)
    currency: str = ""
    props: dict[str, str] = Field(default_factory=dict)
    interactive: int = Field(1, ge=0, le=1)
    engagement_ms: int = Field(0, ge=0, le=4_294_967_295)
    scroll_depth: int = Field(0, ge=0, le=255)
    # The tracking API's skew correction of `timestamp` (ms added to the sender's own time, 0:
    # none): such a time depends on the arrival, so the loader settles it (touchline.load.clock).
    clock_correction_ms: int = Field(0, ge=-(2**62), le=2**62)


EVENT_COLUMNS: tuple[str, ...] = tuple(EventRow.model_fields)
