from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from touchline.tracking.clock import event_time

RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_skewed_client_clock_is_corrected_by_the_send_delay() -> None:
    # The device clock is 3 days behind; the event happened 5 s before the batch was sent.
    original = datetime(2026, 11, 17, 11, 59, 50, tzinfo=UTC)
    sent = original + timedelta(seconds=5)
    assert event_time(RECEIVED, None, original, sent) == RECEIVED - timedelta(seconds=5)


def test_server_library_timestamp_is_the_original_time() -> None:
    stamped = RECEIVED - timedelta(hours=1, seconds=2)
    assert event_time(RECEIVED, stamped, None, stamped + timedelta(seconds=2)) == RECEIVED - timedelta(
        seconds=2
    )


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
    skew=st.integers(min_value=-(10**8), max_value=10**8),
    delay=st.integers(min_value=-(10**6), max_value=10**8),
)
def test_never_after_it_was_received(skew: int, delay: int) -> None:
    original = RECEIVED + timedelta(milliseconds=skew)
    sent = original + timedelta(milliseconds=delay)
    assert event_time(RECEIVED, None, original, sent) <= RECEIVED
    assert event_time(RECEIVED, original, None, None) <= RECEIVED
