"""Date ranges and time buckets in the site's time zone.

A range is resolved to `[start, end)` instants (UTC) from the site's local calendar: `"7d"` on a
Berlin site is the seven local days before today, midnight to midnight Berlin time, and
`time:day` buckets are Berlin days. Shorthands follow Plausible's Stats API v2 (`Nd`: the N full
days before today; `Nmo`: the N full months before this one; `day`, `month`, `year`: the
current local day, month and year; `24h`: the 24 hours before now; `all`: from the site's first
event to today).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from touchline.query.errors import QueryError

_DAYS = re.compile(r"^([1-9][0-9]{0,3})d$")
_MONTHS = re.compile(r"^([1-9][0-9]?)mo$")
SHORTHANDS = ("day", "24h", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all")
TIME_DIMENSIONS = ("time", "time:minute", "time:hour", "time:day", "time:week", "time:month")
MAX_LABELS = 10_000


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or a ValueError naming it."""
    if name not in _zones():
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
        _ZONES.add("UTC")
    return _ZONES


@dataclass(frozen=True, slots=True)
class DateRange:
    """`[start, end)` in UTC, the local dates it covers, and the site's zone."""

    start: datetime
    end: datetime
    timezone: str
    first_day: date
    last_day: date

    def as_plausible(self) -> list[str]:
        """The range as Plausible echoes it: local ISO datetimes, inclusive end (to the second)."""
        tz = ZoneInfo(self.timezone)
        last = self.end - timedelta(seconds=1)
        return [
            self.start.astimezone(tz).isoformat(timespec="seconds"),
            last.astimezone(tz).isoformat(timespec="seconds"),
        ]

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def days_range(first: date, last: date, tz_name: str) -> DateRange:
    tz = ZoneInfo(tz_name)
    return DateRange(
        _local_midnight(first, tz), _local_midnight(last + timedelta(days=1), tz), tz_name, first, last
    )


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return _month_start(day, -1) - timedelta(days=1)


def resolve(raw: object, tz_name: str, now: datetime, first_seen: date | None) -> DateRange:
    """A request's `date_range` → `DateRange`; QueryError with Plausible's message otherwise."""
    tz = ZoneInfo(tz_name)
    today = now.astimezone(tz).date()
    if isinstance(raw, str):
        if raw == "day":
            return days_range(today, today, tz_name)
        if raw in ("24h", "realtime", "30m"):
            span = {
                "24h": timedelta(hours=24),
                "realtime": timedelta(minutes=5),
                "30m": timedelta(minutes=30),
            }
            end = now.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
            start = end - span[raw]
            return DateRange(start, end, tz_name, start.astimezone(tz).date(), now.astimezone(tz).date())
        if raw == "month":
            return days_range(_month_start(today), _month_end(today), tz_name)
        if raw == "year":
            return days_range(date(today.year, 1, 1), date(today.year, 12, 31), tz_name)
        if raw == "all":
            first = min(first_seen or today, today)
            return days_range(first, today, tz_name)
        if match := _DAYS.match(raw):
            n = int(match.group(1))
            return days_range(today - timedelta(days=n), today - timedelta(days=1), tz_name)
        if match := _MONTHS.match(raw):
            n = int(match.group(1))
            return days_range(_month_start(today, n), _month_end(_month_start(today, 1)), tz_name)
    elif isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, str) for v in raw):
        return _explicit(raw[0], raw[1], tz_name)
    raise QueryError(f"Invalid date_range {_show(raw)}.")


def _explicit(first: str, last: str, tz_name: str) -> DateRange:
    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        pass
    else:
        if len(first) == 10 and len(last) == 10:
            if b < a:
                raise QueryError(f"Invalid date_range {_show([first, last])}: the end is before the start.")
            return days_range(a, b, tz_name)
    try:
        start, end = datetime.fromisoformat(first), datetime.fromisoformat(last)
    except ValueError:
        raise QueryError(f"Invalid date_range {_show([first, last])}.") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise QueryError(
            f"Invalid date_range {_show([first, last])}: datetimes need a UTC offset, "
            "e.g. 2024-01-01T12:00:00+02:00."
        )
    # Plausible's end is inclusive to the second.
    start_utc = start.astimezone(UTC)
    end_utc = end.astimezone(UTC) + timedelta(seconds=1)
    if end_utc <= start_utc:
        raise QueryError(f"Invalid date_range {_show([first, last])}: the end is before the start.")
    tz = ZoneInfo(tz_name)
    return DateRange(start_utc, end_utc, tz_name, start_utc.astimezone(tz).date(), end.astimezone(tz).date())


def bucket_for_time(date_range: DateRange) -> str:
    """What the plain `time` dimension means for a range (Plausible's automatic interval)."""
    if date_range.seconds <= 2 * 86400:
        return "time:hour"
    if date_range.seconds <= 40 * 86400:
        return "time:day"
    return "time:month"


def labels(bucket: str, date_range: DateRange) -> list[str]:
    """Every bucket label of a range, as the time dimension formats them."""
    tz = ZoneInfo(date_range.timezone)
    out: list[str] = []
    if bucket in ("time:hour", "time:minute"):
        step = timedelta(hours=1) if bucket == "time:hour" else timedelta(minutes=1)
        cursor = date_range.start.astimezone(tz)
        cursor = cursor.replace(minute=0 if bucket == "time:hour" else cursor.minute, second=0, microsecond=0)
        # Step in UTC (DST days have 23 or 25 local hours), label in local time.
        instant = cursor.astimezone(UTC)
        fmt = "%Y-%m-%d %H:00:00" if bucket == "time:hour" else "%Y-%m-%d %H:%M:00"
        while instant < date_range.end and len(out) < MAX_LABELS:
            label = instant.astimezone(tz).strftime(fmt)
            if not out or out[-1] != label:
                out.append(label)
            instant += step
        return out
    day = date_range.first_day
    last = date_range.last_day
    if bucket == "time:day":
        while day <= last and len(out) < MAX_LABELS:
            out.append(day.isoformat())
            day += timedelta(days=1)
    elif bucket == "time:week":
        out.append(day.isoformat())
        day = day + timedelta(days=7 - day.weekday())
        while day <= last and len(out) < MAX_LABELS:
            out.append(day.isoformat())
            day += timedelta(days=7)
    elif bucket == "time:month":
        out.append(day.isoformat())
        day = _month_start(day, -1)
        while day <= last and len(out) < MAX_LABELS:
            out.append(day.isoformat())
            day = _month_start(day, -1)
    return out


def _show(value: object) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
