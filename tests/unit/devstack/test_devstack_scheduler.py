"""Schedule expressions (EventBridge rules), the events they produce, and the scheduler thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from touchline_dev.devstack.scheduler import (
    RateSchedule,
    ScheduleError,
    Scheduler,
    parse_schedule,
    scheduler_event,
)

T0 = datetime(2026, 3, 4, 10, 7, 30, tzinfo=UTC)  # a Wednesday


def _next(expression: str, after: datetime = T0, timezone: str = "UTC") -> datetime | None:
    return parse_schedule(expression, timezone=timezone, now=T0).next_after(after)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_rates(expression: str, interval: timedelta) -> None:
    schedule = parse_schedule(expression, now=T0)
    assert isinstance(schedule, RateSchedule)
    assert schedule.next_after(T0) == T0 + interval
    assert schedule.next_after(T0 + interval) == T0 + 2 * interval


@pytest.mark.parametrize(
    "expression",
    [
        "rate(5 minute)",
        "rate(1 minutes)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "every 5 minutes",
        "cron(0 12 * * *)",
    ],
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(expression)


def test_day_of_month_and_day_of_week_cannot_both_be_set() -> None:
    with pytest.raises(ScheduleError, match=r"exactly one .* must be \?"):
        parse_schedule("cron(0 12 1 * MON *)")
    with pytest.raises(ScheduleError):
        parse_schedule("cron(0 12 ? * ? *)")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0/15 * * * ? *)", _utc(2026, 3, 4, 10, 15)),
        ("cron(5,50 * * * ? *)", _utc(2026, 3, 4, 10, 50)),
        ("cron(0 12 * * ? *)", _utc(2026, 3, 4, 12, 0)),
        ("cron(0 8 * * ? *)", _utc(2026, 3, 5, 8, 0)),
        ("cron(0 18 ? * MON-FRI *)", _utc(2026, 3, 4, 18, 0)),
        ("cron(0 9 ? * SAT,SUN *)", _utc(2026, 3, 7, 9, 0)),
        ("cron(0 9 ? * 1 *)", _utc(2026, 3, 8, 9, 0)),  # 1 = Sunday
        ("cron(0 0 1 * ? *)", _utc(2026, 4, 1, 0, 0)),
        ("cron(0 0 L * ? *)", _utc(2026, 3, 31, 0, 0)),
        ("cron(0 0 LW * ? *)", _utc(2026, 3, 31, 0, 0)),
        ("cron(0 0 14W * ? *)", _utc(2026, 3, 13, 0, 0)),  # 14 Mar is a Saturday: Friday the 13th
        ("cron(0 10 ? * 6#3 *)", _utc(2026, 3, 20, 10, 0)),  # third Friday
        ("cron(0 10 ? * 5L *)", _utc(2026, 3, 26, 10, 0)),  # last Thursday
        ("cron(0 0 1 JAN ? *)", _utc(2027, 1, 1, 0, 0)),
        ("cron(0 0 29 2 ? *)", _utc(2028, 2, 29, 0, 0)),
        ("cron(0 0 1 1 ? 2025)", None),
        ("cron(30 10 4 3 ? 2026)", _utc(2026, 3, 4, 10, 30)),
    ],
)
def test_cron_next_firing(expression: str, expected: datetime | None) -> None:
    assert _next(expression) == expected


def test_nearest_weekday_moves_off_the_weekend() -> None:
    # 1 Aug 2026 is a Saturday: 1W fires on Monday the 3rd (never back into July).
    assert _next("cron(0 0 1W * ? *)", after=_utc(2026, 7, 31)) == _utc(2026, 8, 3)
    # 15 Mar 2026 is a Sunday: 15W fires on Monday the 16th.
    assert _next("cron(0 0 15W * ? *)") == _utc(2026, 3, 16)


def test_cron_in_a_time_zone() -> None:
    # 02:30 in Paris is 01:30 UTC in winter.
    assert _next("cron(30 2 * * ? *)", timezone="Europe/Paris") == _utc(2026, 3, 5, 1, 30)
    with pytest.raises(ScheduleError, match="Timezone"):
        parse_schedule("cron(30 2 * * ? *)", timezone="Mars/Olympus")


def test_at_fires_once() -> None:
    schedule = parse_schedule("at(2026-03-04T12:00:00)")
    assert schedule.next_after(T0) == _utc(2026, 3, 4, 12)
    assert schedule.next_after(_utc(2026, 3, 4, 12)) is None


def test_scheduler_v2_event_is_the_input_with_context_attributes() -> None:
    event = scheduler_event(
        kind="ScheduleV2",
        raw_input=(
            '{"job": "x", "at": "<aws.scheduler.scheduled-time>", "arn": "<aws.scheduler.schedule-arn>"}'
        ),
        schedule_arn="arn:aws:scheduler:us-east-1:123456789012:schedule/default/s",
        scheduled_time=_utc(2026, 3, 4, 10, 15),
        region="us-east-1",
        account_id="123456789012",
    )
    assert event == {
        "job": "x",
        "at": "2026-03-04T10:15:00Z",
        "arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/s",
    }
    bare = scheduler_event(
        kind="ScheduleV2", raw_input=None, schedule_arn="a", scheduled_time=T0, region="r", account_id="1"
    )
    assert bare == {}


def test_classic_schedule_event_is_a_scheduled_event() -> None:
    event = scheduler_event(
        kind="Schedule",
        raw_input=None,
        schedule_arn="arn:rule",
        scheduled_time=T0,
        region="us-east-1",
        account_id="1",
    )
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == ["arn:rule"]
    assert event["time"] == "2026-03-04T10:07:30Z"
    assert event["detail"] == {}


def test_scheduler_thread_fires_jobs_repeatedly_and_stops() -> None:
    fired: list[datetime] = []
    enough = threading.Event()

    def fire(at: datetime) -> None:
        fired.append(at)
        if len(fired) >= 3:
            enough.set()

    scheduler = Scheduler()
    scheduler.add("fast", RateSchedule(timedelta(milliseconds=50), datetime.now(UTC)), fire)
    scheduler.add("never", parse_schedule("cron(0 0 1 1 ? 2199)"), lambda _at: None)
    scheduler.start()
    assert enough.wait(5)
    scheduler.stop()
    assert fired == sorted(fired)
    assert [name for name, _ in scheduler.upcoming()].count("never") == 1
