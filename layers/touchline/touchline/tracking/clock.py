"""When a message happened, corrected for the sender's clock as the Segment spec does it, but
deterministically, so that a redelivered message is stored with the same time.

The sender stamps the call (`originalTimestamp`, or `timestamp` from server libraries) and the
request (`sentAt`) with the same, possibly wrong, clock; the spec computes
`timestamp = receivedAt - (sentAt - originalTimestamp)`, i.e. the sender's time shifted by the
offset `receivedAt - sentAt`. That offset is the clock error plus the network delay, and the delay
differs on every retry: applied as is, a retried batch would get new timestamps and, since the
events table deduplicates on (…, timestamp, event_id), be stored twice. So:

* an offset within `SKEW_TOLERANCE` (one minute: any NTP-synced server, plus latency) is ignored
  and the sender's time is kept exactly;
* a larger offset (a phone whose clock is hours off, a time-zone bug) is applied rounded to whole
  minutes, which makes it the same on every retry but the rarest (a skew within a few
  milliseconds of a minute boundary);
* without `sentAt` the sender's time is taken as is (historical imports); without any timestamp
  the time we received it. A time more than the tolerance after `receivedAt` (a clock running
  ahead with no `sentAt` to correct it) is clamped to `receivedAt`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

SKEW_TOLERANCE = timedelta(minutes=1)
SKEW_STEP = timedelta(minutes=1)


def event_time(
    received_at: datetime,
    timestamp: datetime | None,
    original_timestamp: datetime | None,
    sent_at: datetime | None,
) -> datetime:
    stamped = original_timestamp or timestamp
    if stamped is None:
        return received_at
    corrected = stamped
    if sent_at is not None:
        offset = received_at - sent_at
        if abs(offset) > SKEW_TOLERANCE:
            corrected = stamped + round(offset / SKEW_STEP) * SKEW_STEP
    if corrected > received_at + SKEW_TOLERANCE:
        return received_at
    return corrected
