from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from touchline.tracking.clock import NO_CORRECTION, SKEW_TOLERANCE, clock_time

RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _at(
    received: datetime, timestamp: datetime | None, original: datetime | None, sent: datetime | None
) -> datetime:
    return clock_time(received, timestamp, original, sent).at


def test_a_clock_days_behind_is_corrected_to_the_minute() -> None:
    # The device clock is 3 days (and 5 s) behind: the offset is applied in whole minutes.
    original = datetime(2026, 11, 17, 11, 59, 50, tzinfo=UTC)
    sent = original + timedelta(seconds=5)
    assert _at(RECEIVED, None, original, sent) == original + timedelta(days=3)


def test_a_time_zone_bug_is_corrected_exactly() -> None:
    original = RECEIVED - timedelta(hours=2, seconds=40)
    sent = RECEIVED - timedelta(hours=2, milliseconds=180)  # 2 h behind, 180 ms on the wire
    assert _at(RECEIVED, original, None, sent) == RECEIVED - timedelta(seconds=40)


def test_a_synced_sender_keeps_its_own_time() -> None:
    stamped = RECEIVED - timedelta(hours=1, seconds=2)
    sent = RECEIVED - timedelta(milliseconds=350)
    assert _at(RECEIVED, stamped, None, sent) == stamped


def test_a_retry_gets_the_same_time() -> None:
    stamped = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for skew in (timedelta(0), timedelta(hours=-5), timedelta(days=2, minutes=7)):
        first_sent = stamped + skew + timedelta(seconds=3)
        times = {
            _at(first_sent - skew + delay + retry, stamped + skew, None, first_sent + retry)
            for delay in (timedelta(milliseconds=20), timedelta(milliseconds=900))
            for retry in (timedelta(0), timedelta(seconds=10), timedelta(minutes=3))
        }
        assert len(times) == 1, skew


def test_without_sent_at_a_historical_timestamp_is_kept() -> None:
    historical = datetime(2025, 1, 1, tzinfo=UTC)
    assert _at(RECEIVED, historical, None, None) == historical


def test_without_any_timestamp_the_receive_time_is_used() -> None:
    assert _at(RECEIVED, None, None, None) == RECEIVED


def test_original_timestamp_wins_over_timestamp() -> None:
    original = RECEIVED - timedelta(seconds=30)
    other = RECEIVED - timedelta(days=3)
    assert _at(RECEIVED, other, original, None) == original


@given(
    skew=st.integers(min_value=-(10**9), max_value=10**9),
    delay=st.integers(min_value=0, max_value=10**8),
    sent=st.booleans(),
)
def test_never_much_after_it_was_received(skew: int, delay: int, sent: bool) -> None:
    original = RECEIVED + timedelta(milliseconds=skew)
    sent_at = original + timedelta(milliseconds=delay) if sent else None
    assert _at(RECEIVED, None, original, sent_at) <= RECEIVED + SKEW_TOLERANCE


def test_only_a_time_that_depends_on_the_arrival_says_it_was_corrected() -> None:
    stamped = RECEIVED - timedelta(days=3, seconds=20)
    # 3 days behind: the correction the loader settles (touchline.load.clock).
    assert clock_time(RECEIVED, stamped, None, stamped + timedelta(seconds=5)) == (
        stamped + timedelta(days=3),
        timedelta(days=3),
    )
    # Synced, or no sentAt: the sender's own time, a pure function of the message.
    assert clock_time(RECEIVED, stamped, None, RECEIVED - timedelta(seconds=50)) == (stamped, NO_CORRECTION)
    assert clock_time(RECEIVED, stamped, None, None) == (stamped, NO_CORRECTION)
    assert clock_time(RECEIVED, None, None, None) == (RECEIVED, NO_CORRECTION)
    # Ahead of the receipt with no sentAt: clamped, also a correction.
    ahead = RECEIVED + timedelta(minutes=5)
    assert clock_time(RECEIVED, ahead, None, None) == (RECEIVED, -timedelta(minutes=5))


def test_the_same_body_later_gets_another_time_which_is_why_the_loader_settles_it() -> None:
    stamped = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
    sent = stamped + timedelta(seconds=3)  # the SDK keeps the body, and its sentAt, on retry
    first = clock_time(RECEIVED, stamped, None, sent)
    later = clock_time(RECEIVED + timedelta(minutes=7), stamped, None, sent)
    assert later.at - first.at == timedelta(minutes=7)
    assert first.at - first.correction == later.at - later.correction == stamped


@given(
    skew=st.integers(min_value=-(10**10), max_value=10**10),
    delay=st.integers(min_value=-(10**6), max_value=10**8),
    sent=st.booleans(),
)
def test_the_correction_is_what_was_added_to_the_senders_time(skew: int, delay: int, sent: bool) -> None:
    stamped = RECEIVED + timedelta(milliseconds=skew)
    sent_at = stamped + timedelta(milliseconds=delay) if sent else None
    at, correction = clock_time(RECEIVED, stamped, None, sent_at)
    assert at - correction == stamped
    assert (correction == NO_CORRECTION) == (at == stamped)
