"""Schedules: `rate(...)`, 6-field AWS `cron(...)` and `at(...)`, fired by one thread.

The parser follows the EventBridge rules (`rate(1 minute)` but `rate(5 minutes)`; one of
day-of-month and day-of-week must be `?`; day-of-week 1-7 is SUN-SAT; `L`, `W` and `#`), so an
expression that would be rejected on deploy is rejected here too. A ScheduleV2 (EventBridge
Scheduler) target gets its `Input` with the `<aws.scheduler.*>` placeholders filled in, or `{}`; a
classic Schedule (EventBridge rule) target gets a "Scheduled Event" unless it has an Input.
"""

from __future__ import annotations

import calendar
import heapq
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger("touchline_dev.devstack")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_MONTH_NAMES = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    """Not a valid schedule expression."""


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after `moment` (aware), or None if it never fires again."""
        ...


@dataclass(frozen=True)
class RateSchedule:
    interval: timedelta
    start: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        if moment < self.start:
            return self.start + self.interval
        periods = (moment - self.start) // self.interval + 1
        return self.start + periods * self.interval


@dataclass(frozen=True)
class AtSchedule:
    when: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        return self.when if self.when > moment else None


@dataclass(frozen=True)
class _DayRule:
    """Day-of-month or day-of-week: a set, or `?`, plus the special forms."""

    values: frozenset[int] = frozenset()
    any: bool = False  # `?` or `*`
    last: bool = False  # `L` (last day of month / `L` alone in day-of-week = Saturday)
    last_weekday_of: int | None = None  # day-of-week `5L`: last Thursday
    nearest_weekday: int | None = None  # day-of-month `15W`
    last_weekday_of_month: bool = False  # day-of-month `LW`
    nth: tuple[int, int] | None = None  # day-of-week `6#3`: third Friday


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: _DayRule
    months: frozenset[int]
    day_of_week: _DayRule
    years: frozenset[int]
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def next_after(self, moment: datetime) -> datetime | None:
        local = moment.astimezone(self.tz).replace(second=0, microsecond=0, tzinfo=None) + timedelta(
            minutes=1
        )
        for _ in range(200_000):
            if local.year > 2199:
                return None
            if local.year not in self.years:
                local = datetime(local.year + 1, 1, 1)
            elif local.month not in self.months:
                local = (local.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0)
            elif not self._day_matches(local):
                local = local.replace(hour=0, minute=0) + timedelta(days=1)
            elif local.hour not in self.hours:
                local = local.replace(minute=0) + timedelta(hours=1)
            elif local.minute not in self.minutes:
                local += timedelta(minutes=1)
            else:
                fired = local.replace(tzinfo=self.tz).astimezone(UTC)
                if fired > moment:
                    return fired
                local += timedelta(minutes=1)
        return None

    def _day_matches(self, day: datetime) -> bool:
        if not self.day_of_month.any:
            return _dom_matches(self.day_of_month, day)
        if not self.day_of_week.any:
            return _dow_matches(self.day_of_week, day)
        return True


def _aws_weekday(day: datetime) -> int:
    """1 = Sunday ... 7 = Saturday, as in AWS cron."""
    return (day.isoweekday() % 7) + 1


def _dom_matches(rule: _DayRule, day: datetime) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if rule.last:
        return day.day == last
    if rule.last_weekday_of_month:
        target = last
        while datetime(day.year, day.month, target).weekday() >= 5:
            target -= 1
        return day.day == target
    if rule.nearest_weekday is not None:
        wanted = min(rule.nearest_weekday, last)
        base = datetime(day.year, day.month, wanted)
        if base.weekday() == 5:  # Saturday -> Friday, or Monday if that leaves the month
            wanted = wanted - 1 if wanted > 1 else wanted + 2
        elif base.weekday() == 6:  # Sunday -> Monday, or Friday if that leaves the month
            wanted = wanted + 1 if wanted < last else wanted - 2
        return day.day == wanted
    return day.day in rule.values


def _dow_matches(rule: _DayRule, day: datetime) -> bool:
    weekday = _aws_weekday(day)
    if rule.last:
        return weekday == 7
    if rule.last_weekday_of is not None:
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == rule.last_weekday_of and day.day + 7 > last
    if rule.nth is not None:
        wanted, nth = rule.nth
        return weekday == wanted and (day.day - 1) // 7 + 1 == nth
    return weekday in rule.values


def parse_schedule(expression: str, *, timezone: str = "UTC", now: datetime | None = None) -> Schedule:
    """Parse a ScheduleExpression; `now` anchors rate() schedules (they start when created)."""
    expression = expression.strip()
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown ScheduleExpressionTimezone {timezone!r}") from None
    if rate := _RATE.match(expression):
        value, unit = int(rate.group(1)), rate.group(2)
        if value <= 0:
            raise ScheduleError(f"{expression}: the rate must be positive")
        if (value == 1) != (not unit.endswith("s")):
            fix = unit.rstrip("s") if value == 1 else unit + "s"
            raise ScheduleError(f"{expression}: AWS requires rate({value} {fix})")
        return RateSchedule(
            timedelta(seconds=value * _UNIT_SECONDS[unit.rstrip("s")]), now or datetime.now(UTC)
        )
    if at := _AT.match(expression):
        return AtSchedule(datetime.fromisoformat(at.group(1)).replace(tzinfo=tz).astimezone(UTC))
    if cron := _CRON.match(expression):
        return _parse_cron(cron.group(1), tz, expression)
    raise ScheduleError(f"{expression!r}: expected rate(...), cron(...) or at(...)")


def _parse_cron(body: str, tz: ZoneInfo, expression: str) -> CronSchedule:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleError(
            f"{expression}: AWS cron has 6 fields (minutes hours day-of-month month day-of-week year)"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{expression}: exactly one of day-of-month and day-of-week must be ?")
    return CronSchedule(
        minutes=_parse_field(minutes, 0, 59, {}, expression),
        hours=_parse_field(hours, 0, 23, {}, expression),
        day_of_month=_parse_dom(dom, expression),
        months=_parse_field(month, 1, 12, _MONTH_NAMES, expression),
        day_of_week=_parse_dow(dow, expression),
        years=_parse_field(year, 1970, 2199, {}, expression),
        tz=tz,
    )


def _parse_field(text: str, low: int, high: int, names: dict[str, int], expression: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, step_text = part.split("/", 1)
            step = _number(step_text, 1, high - low + 1, expression)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = (
                _value(first, low, high, names, expression),
                _value(last, low, high, names, expression),
            )
        else:
            start = _value(part, low, high, names, expression)
            end = high if stepped else start
        if start > end:
            raise ScheduleError(f"{expression}: range {part} runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, low: int, high: int, names: dict[str, int], expression: str) -> int:
    if text.upper() in names:
        return names[text.upper()]
    return _number(text, low, high, expression)


def _number(text: str, low: int, high: int, expression: str) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ScheduleError(f"{expression}: {text!r} is not in {low}-{high}")
    return int(text)


def _parse_dom(text: str, expression: str) -> _DayRule:
    if text in ("?", "*"):
        return _DayRule(any=text == "?", values=frozenset(range(1, 32)))
    if text == "L":
        return _DayRule(last=True)
    if text == "LW":
        return _DayRule(last_weekday_of_month=True)
    if text.endswith("W"):
        return _DayRule(nearest_weekday=_number(text[:-1], 1, 31, expression))
    return _DayRule(values=_parse_field(text, 1, 31, {}, expression))


def _parse_dow(text: str, expression: str) -> _DayRule:
    if text in ("?", "*"):
        return _DayRule(any=text == "?", values=frozenset(range(1, 8)))
    if text == "L":
        return _DayRule(last=True)
    if text.endswith("L"):
        return _DayRule(last_weekday_of=_value(text[:-1], 1, 7, _DAY_NAMES, expression))
    if "#" in text:
        day, nth = text.split("#", 1)
        return _DayRule(nth=(_value(day, 1, 7, _DAY_NAMES, expression), _number(nth, 1, 5, expression)))
    return _DayRule(values=_parse_field(text, 1, 7, _DAY_NAMES, expression))


# --------------------------------------------------------------------------- events


def scheduler_event(
    *,
    kind: str,
    raw_input: str | None,
    schedule_arn: str,
    scheduled_time: datetime,
    region: str,
    account_id: str,
) -> Any:
    """What the target function receives for one firing."""
    stamp = scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "ScheduleV2":
        if raw_input is None:
            return {}
        filled = (
            raw_input.replace("<aws.scheduler.schedule-arn>", schedule_arn)
            .replace("<aws.scheduler.scheduled-time>", stamp)
            .replace("<aws.scheduler.execution-id>", uuid.uuid4().hex[:16])
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        return json.loads(filled)
    if raw_input is not None:
        return json.loads(raw_input)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": stamp,
        "region": region,
        "resources": [schedule_arn],
        "detail": {},
    }


@dataclass(order=True)
class _Entry:
    due: datetime
    name: str = field(compare=False)
    schedule: Schedule = field(compare=False)
    fire: Callable[[datetime], None] = field(compare=False)


class Scheduler:
    """Fires each job at its next time; a slow job delays later firings, it never overlaps itself."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._heap: list[_Entry] = []
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, name: str, schedule: Schedule, fire: Callable[[datetime], None]) -> datetime | None:
        due = schedule.next_after(self._clock())
        if due is not None:
            with self._wake:
                heapq.heappush(self._heap, _Entry(due, name, schedule, fire))
                self._wake.notify()
        return due

    def upcoming(self) -> Iterable[tuple[str, datetime]]:
        with self._wake:
            return sorted((e.name, e.due) for e in self._heap)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._heap or self._heap[0].due > self._clock()):
                    delay = (self._heap[0].due - self._clock()).total_seconds() if self._heap else 60.0
                    self._wake.wait(max(0.01, min(delay, 60.0)))
                if self._stopped:
                    return
                entry = heapq.heappop(self._heap)
            try:
                entry.fire(entry.due)
            except Exception:
                log.exception("scheduled run of %s failed", entry.name)
            following = entry.schedule.next_after(max(entry.due, self._clock()))
            if following is not None:
                with self._wake:
                    heapq.heappush(self._heap, _Entry(following, entry.name, entry.schedule, entry.fire))
