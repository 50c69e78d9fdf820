"""Realtime: who is on the site now, read straight from `events` (seed 001's Redis sorted set,
done with what Touchline has).

The aggregation's sessions are up to 15 minutes old; these numbers are as fresh as the loader
(seconds): two small statements over the site's last 30 minutes of raw events, which the
events table's key (`site_id, toDate(timestamp), …`) narrows to one or two days' parts.

- **visitors**: distinct visitors with a hit (any event but engagement/identify/device rows,
  whose absence means nothing) in the last 5 minutes — Plausible's "current visitors";
- **pages**, **sources**, **countries**: those visitors by their current page (their latest
  pageview's path), the source of their first hit in the last 30 minutes (the session timeout:
  roughly their visit's entry source) and their country, top 10 each;
- **minutes**: every one of the last 30 minutes (the current one last, partial), with its
  distinct visitors and pageviews (pageviews counted by event id, so a redelivered hit that has
  not merged yet counts once).

Times are the events' own (`timestamp`); hits stamped more than a minute into the future are
ignored. Values are shown as the query API shows them (`Direct / None`, country codes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from touchline.query.sql import Warehouse

ACTIVE_MINUTES = 5
CHART_MINUTES = 30
TOP = 10
NON_ACTIVITY = ["engagement", "identify", "device", "consent"]

_WINDOW = """
    site_id = {site:String}
    AND timestamp >= {start:DateTime64(3, 'UTC')}
    AND timestamp < {now:DateTime64(3, 'UTC')} + INTERVAL 1 MINUTE
    AND event_type NOT IN {quiet:Array(String)}
"""

# One row per grouping set: (page), (source), (country) and () for the total.
VISITORS_SQL = f"""
SELECT grouping(page, source, country) AS g, page, source, country, count() AS visitors
FROM (
    SELECT visitor_id,
           max(timestamp) AS last_seen,
           argMaxIf(pathname, timestamp, event_type = 'pageview') AS page,
           argMin(if(referrer_source = '', 'Direct / None', referrer_source), timestamp) AS source,
           argMax(country, timestamp) AS country
    FROM events
    WHERE {_WINDOW}
    GROUP BY visitor_id
    HAVING last_seen >= {{active:DateTime64(3, 'UTC')}}
)
GROUP BY GROUPING SETS ((page), (source), (country), ())
"""

MINUTES_SQL = f"""
SELECT toStartOfMinute(timestamp) AS minute,
       uniqExact(visitor_id) AS visitors,
       uniqExactIf(event_id, event_type = 'pageview') AS pageviews
FROM events
WHERE {_WINDOW}
GROUP BY minute
"""

NEWEST_SQL = f"""
SELECT max(timestamp), max(inserted_at) FROM events WHERE {_WINDOW}
"""

# grouping(page, source, country), standard SQL's: a bit is 1 where the column is NOT in the set.
_PAGE, _SOURCE, _COUNTRY, _TOTAL = 0b011, 0b101, 0b110, 0b111


class Realtime:
    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    def now(self, site_id: str, at: datetime | None = None) -> dict[str, Any]:
        """The realtime answer of `site_id` as of `at` (now: the server's clock)."""
        now = (at or datetime.now(UTC)).astimezone(UTC)
        first_minute = now.replace(second=0, microsecond=0) - timedelta(minutes=CHART_MINUTES - 1)
        params = {
            "site": site_id,
            "now": now,
            "start": first_minute,
            "active": now - timedelta(minutes=ACTIVE_MINUTES),
            "quiet": NON_ACTIVITY,
        }
        _, grouped = self._warehouse.select(VISITORS_SQL, params)
        _, minutes = self._warehouse.select(MINUTES_SQL, params)
        _, newest = self._warehouse.select(NEWEST_SQL, params)
        return {
            "site_id": site_id,
            "as_of": _iso(now),
            "active_minutes": ACTIVE_MINUTES,
            "visitors": next((int(row[4]) for row in grouped if row[0] == _TOTAL), 0),
            "pages": _top(grouped, _PAGE, 1, "page"),
            "sources": _top(grouped, _SOURCE, 2, "source"),
            "countries": _top(grouped, _COUNTRY, 3, "country"),
            "minutes": _minutes(minutes, first_minute),
            "newest_event_at": _iso_or_none(newest[0][0] if newest else None),
            "newest_stored_at": _iso_or_none(newest[0][1] if newest else None),
        }


def _top(rows: list[tuple[Any, ...]], group: int, column: int, name: str) -> list[dict[str, Any]]:
    empty = "(none)" if name == "page" else "(not set)"
    counted = sorted(
        ((str(row[column]) or empty, int(row[4])) for row in rows if row[0] == group),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return [{name: value, "visitors": visitors} for value, visitors in counted[:TOP]]


def _minutes(rows: list[tuple[Any, ...]], first: datetime) -> list[dict[str, Any]]:
    by_minute = {_utc(row[0]): (int(row[1]), int(row[2])) for row in rows}
    out = []
    for i in range(CHART_MINUTES):
        minute = first + timedelta(minutes=i)
        visitors, pageviews = by_minute.get(minute, (0, 0))
        out.append({"minute": _iso(minute), "visitors": visitors, "pageviews": pageviews})
    return out


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def _iso_or_none(value: Any) -> str | None:
    if not isinstance(value, datetime) or value.timestamp() <= 0:
        return None
    return _utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
