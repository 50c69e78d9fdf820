"""The delivery log: one `webhook_deliveries` row per attempt (migration 0036), appended through
the events queue and the loader; read newest first by the management API and the CLI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row
from touchline.warehouse.sql import Sql

Outcome = Literal["delivered", "failed", "gave_up", "skipped"]
MAX_PAGE = 200
COLUMNS = (
    "delivery_id",
    "event_id",
    "event_type",
    "attempt",
    "attempted_at",
    "outcome",
    "http_status",
    "error",
    "duration_ms",
    "response_body",
    "retry_in_seconds",
)


class DeliveryRow(Row):
    site_id: str = Field(max_length=64)
    webhook_id: str = Field(max_length=64)
    delivery_id: uuid.UUID
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=64)
    attempt: int = Field(ge=1, le=1000)
    attempted_at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    outcome: str = Field(max_length=16)
    http_status: int = Field(0, ge=0, le=999)
    error: str = Field("", max_length=500)
    duration_ms: int = Field(0, ge=0)
    response_body: str = Field("", max_length=1024)
    retry_in_seconds: int = Field(0, ge=0)


def delivery_id(webhook_id: str, event_id: str, attempt: int) -> uuid.UUID:
    """The same attempt of the same event to the same subscriber: the same id (a redelivered
    message logs once)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"touchline:webhook:{webhook_id}:{event_id}:{attempt}")


def read_deliveries(
    sql: Sql, site_id: str, webhook_id: str, limit: int = 50, event_id: str | None = None
) -> list[dict[str, Any]]:
    """A subscription's attempts, newest first (at most `MAX_PAGE`)."""
    where = "site_id = {site:String} AND webhook_id = {webhook:String}"
    params: dict[str, Any] = {"site": site_id, "webhook": webhook_id, "limit": max(1, min(limit, MAX_PAGE))}
    if event_id:
        where += " AND event_id = {event:String}"
        params["event"] = event_id
    rows = sql.rows(
        f"SELECT {', '.join(COLUMNS)} FROM webhook_deliveries FINAL WHERE {where} "
        "ORDER BY attempted_at DESC, attempt DESC LIMIT {limit:UInt32}",
        params,
    )
    out = []
    for row in rows:
        entry = dict(zip(COLUMNS, row, strict=True))
        entry["delivery_id"] = str(entry["delivery_id"])
        at = entry["attempted_at"]
        if isinstance(at, datetime):
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            entry["attempted_at"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out.append(entry)
    return out
