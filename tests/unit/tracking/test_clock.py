from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from touchline.tracking.clock import SKEW_TOLERANCE, event_time

RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_clock_days_behind_is_corrected_to_the_minute() -> None:
    # The device clock is 3 days (and 5 s) behind: the offset is applied in whole minutes.
    original = datetime(2026, 11, 17, 11, 59, 50, tzinfo=UTC)
    sent = original + timedelta(seconds=5)
    assert event_time(RECEIVED, None, original, sent) == original + timedelta(days=3)


def test_a_time_zone_bug_is_corrected_exactly() -> None:
    original = RECEIVED - timedelta(hours=2, seconds=40)
    sent = RECEIVED - timedelta(hours=2, milliseconds=180)  # 2 h behind, 180 ms on the wire
    assert event_time(RECEIVED, original, None, sent) == RECEIVED - timedelta(seconds=40)


def test_a_synced_sender_keeps_its_own_time() -> None:
    stamped = RECEIVED - timedelta(hours=1, seconds=2)
    sent = RECEIVED - timedelta(milliseconds=350)
    assert event_time(RECEIVED, stamped, None, sent) == stamped


def test_a_retry_gets_the_same_time() -> None:
    stamped = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for skew in (timedelta(0), timedelta(hours=-5), timedelta(days=2, minutes=7)):
        first_sent = stamped + skew + timedelta(seconds=3)
        times = {
            event_time(first_sent - skew + delay + retry, stamped + skew, None, first_sent + retry)
            for delay in (timedelta(milliseconds=20), timedelta(milliseconds=900))
            for retry in (timedelta(0), timedelta(seconds=10), timedelta(minutes=3))
        }
        assert len(times) == 1, skew


def test_without_sent_at_a_historical_timestamp_is_kept() -> None:
    historical = datetime(2025, 1, 1, tzinfo=UTC)
    assert event_time(RECEIVED, historical, None, None) == historical


def test_without_any_timestamp_the_receive_time_is_used() -> None:
    assert event_time(RECEIVED, None, None, None) == RECEIVED


def test_original_timestamp_wins_over_timestamp() -> None:
    original = RECEIVED - timedelta(seconds=30)
    other = RECEIVED - timedelta(days=3)
    assert event_time(RECEIVED, other, original, None) == original


@given(
    skew=st.integers(min_value=-(10**9), max_value=10**9),
    delay=st.integers(min_value=0, max_value=10**8),
    sent=st.booleans(),
)
def test_never_much_after_it_was_received(skew: int, delay: int, sent: bool) -> None:
    original = RECEIVED + timedelta(milliseconds=skew)
    sent_at = original + timedelta(milliseconds=delay) if sent else None
    assert event_time(RECEIVED, None, original, sent_at) <= RECEIVED + SKEW_TOLERANCE
