"""When a message happened, corrected for the sender's clock, as the Segment spec computes it.

The sender stamps the call (`originalTimestamp`, or `timestamp` from server libraries) and the
request (`sentAt`) with the same, possibly wrong, clock; the difference between the two is
trustworthy, so the event happened `sentAt - originalTimestamp` before we received it:
`timestamp = receivedAt - (sentAt - originalTimestamp)`. Without `sentAt` the sender's
timestamp is taken as is (historical imports); without any, the time we received it.
A result later than `receivedAt` (a clock running ahead, with no `sentAt` to correct it) is
clamped to it: nothing is stored as having happened after it arrived.
"""

from __future__ import annotations

from datetime import datetime


def event_time(
    received_at: datetime,
    timestamp: datetime | None,
    original_timestamp: datetime | None,
    sent_at: datetime | None,
) -> datetime:
    stamped = original_timestamp or timestamp
    if stamped is None:
        return received_at
    corrected = stamped if sent_at is None else received_at - (sent_at - stamped)
    return min(corrected, received_at)
