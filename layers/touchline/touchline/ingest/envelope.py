"""The SQS message format between the collector and the loader.

One message body is one JSON envelope `{"v": 1, "kind": "event", "event": {...}}`; `event` holds
exactly the columns of a ClickHouse `events` row. The collector assigns `event_id` once, when it
accepts the hit, so every redelivery of the message carries the same id (the loader's dedupe key).
Versioned so a loader can keep reading messages an older collector left in the queue.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ENVELOPE_VERSION = 1


class EventRow(BaseModel):
    """One `events` row. Field names are column names; defaults mirror the table's."""

    model_config = ConfigDict(extra="forbid")

    event_id: UUID
    site_id: str = Field(min_length=1, max_length=64)
    timestamp: datetime
    received_at: datetime
    ingest_source: str = "tag"
    event_type: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=256)
    visitor_id: str = ""
    session_id: str = ""
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


class EventEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = ENVELOPE_VERSION
    kind: Literal["event"] = "event"
    event: EventRow


EVENT_COLUMNS: tuple[str, ...] = tuple(EventRow.model_fields)
