"""Sync state kept between runs (stored by `touchline.config.sync_state`): a watermark per site,
provider and stream, and a run lease.

Seed 003's `klaviyo_syncs` record (one `*_last_sync` per data type), generalised:

    pk = SYNC#<site_id>#<provider>   sk = STREAM#<stream>   watermark, position, refreshed_at, rows,
                                                            status, message, status_at, succeeded_at
    pk = SYNC#<site_id>#<provider>   sk = LEASE             owner, expires_at (TTL attribute)

A watermark is written only after the rows it covers are in ClickHouse, and only ever forwards
(a conditional update), so a crashed or concurrent run can make a later run re-fetch, never skip.
`position` holds a stream's place inside an unfinished walk (a newest-first listing that cannot be
filtered by time). `status` is how the stream's last attempt ended (`done`, `failed`, `limited`,
`stopped`) with the provider's message, so one failing stream is visible while the others stay
fresh, and the least recently attempted stream goes first in the next run. The lease keeps two
runs of one site+provider from fetching the same pages; it expires on its own if its holder dies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so string order is time order


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class StreamState:
    watermark: datetime | None = None
    position: dict[str, Any] | None = None
    refreshed_at: datetime | None = None
    rows: int = 0
    status: str = ""  # how the last attempt ended: done | failed | limited | stopped ("" never run)
    message: str = ""
    status_at: datetime | None = None
    succeeded_at: datetime | None = None  # the last attempt that ended `done`


@dataclass(frozen=True)
class Checkpoint:
    """What to record once the rows fetched so far are durable."""

    watermark: datetime | None = None  # None: leave the stored one as it is
    position: dict[str, Any] | None = None  # None: the stream is not inside a walk
    refreshed: bool = False  # the stream finished a full pass (statistics' refresh interval)
