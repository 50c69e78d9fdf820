"""When a message happened, corrected for the sender's clock as the Segment spec does it, and
what of that time depends on when the message arrived (a redelivery arrives later).

The sender stamps the call (`originalTimestamp`, or `timestamp` from server libraries) and the
request (`sentAt`) with the same, possibly wrong, clock; the spec computes
`timestamp = receivedAt - (sentAt - originalTimestamp)`, i.e. the sender's time shifted by the
offset `receivedAt - sentAt`. That offset is the clock error plus the delivery delay, and the
delay differs on every delivery of the same body (an SDK's disk queue retrying an identical
payload, a proxy's retry): no rule on the offset alone gives every copy the same time. So:

* an offset within `SKEW_TOLERANCE` (one minute: any NTP-synced server, plus latency) is ignored
  and the sender's time is kept exactly: a pure function of the body;
* a larger offset (a phone whose clock is hours off, a time-zone bug) is applied rounded to whole
  minutes. That time depends on the arrival, so it comes back with its `correction` (the time
  minus the sender's own), which the events row carries (`clock_correction_ms`): the loader then
  gives a later copy of the message the first copy's time (`touchline.load.clock`), whether that
  one was corrected or kept exactly;
* without `sentAt` the sender's time is taken as is (historical imports); without any timestamp
  the time we received it. A time more than the tolerance after `receivedAt` (a clock running
  ahead with no `sentAt` to correct it) is clamped to `receivedAt`, also a correction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

SKEW_TOLERANCE = timedelta(minutes=1)
SKEW_STEP = timedelta(minutes=1)
NO_CORRECTION = timedelta(0)


class ClockTime(NamedTuple):
    at: datetime
    # `at` minus the sender's own time; zero when `at` is a pure function of the message.
    correction: timedelta


def clock_time(
    received_at: datetime,
    timestamp: datetime | None,
    original_timestamp: datetime | None,
    sent_at: datetime | None,
) -> ClockTime:
    stamped = original_timestamp or timestamp
    if stamped is None:
        return ClockTime(received_at, NO_CORRECTION)
    corrected = stamped
    if sent_at is not None:
        offset = received_at - sent_at
        if abs(offset) > SKEW_TOLERANCE:
            corrected = stamped + round(offset / SKEW_STEP) * SKEW_STEP
    if corrected > received_at + SKEW_TOLERANCE:
        corrected = received_at
    return ClockTime(corrected, corrected - stamped)
