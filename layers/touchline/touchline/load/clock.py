"""One time for every copy of a skew-corrected tracking-API message (`touchline.tracking.clock`).

A corrected row's time depends on when its copy reached the API, and `events` deduplicates on
(…, timestamp, event_id): two copies with two times would be two rows forever. Such a row says
so (`clock_correction_ms` ≠ 0); the loader then gives it the time its message was first stored
with, found in ONE query per batch that has corrected rows (none otherwise):

* `corrected_event_times` (site_id, event_id) → the time of the first corrected copy stored;
* `events` at the sender's own time (the row's time minus its correction): an earlier copy
  whose offset was still within the tolerance, kept exactly (an SDK re-sending the same body a
  few minutes later has a larger offset than its first copy had).

A message not found there takes the time of its copy received first in the batch (two copies
may share one). The loader records the corrected messages it did not find in
`corrected_event_times` BEFORE it inserts their events rows: a crash in between leaves a record
and no row, and the redelivered SQS message (the same rows) finds its own time recorded and is
stored with it; the other order could store a row unrecorded, and a later copy would then get a
new time. Two loaders taking two copies of one message at the same second can both miss (left
alone: both copies would have to reach the API within a batching window of each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

import orjson

from touchline.tracking.ids import event_id

CORRECTION = "clock_correction_ms"
# The rows the tracking API derives from a message beside its events row, its time in `at` and
# its messageId in `message_id`; all but product_reviews have `at` in their key as events do.
DERIVED = ("video_events", "cart_events", "wishlist_events", "object_events", "product_reviews")
TABLE = "corrected_event_times"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# Only a row that names the column can hold a correction (a default 0 is left out of the JSON).
_MARK = f'"{CORRECTION}":'

# Plain arrays, not arrays of tuples (which cost the engine 5x as much to read for 2,000 rows):
# every condition is on a column of the table's key, so the read is a few granules per site-day,
# and the rows are matched exactly in Python.
FIRST_TIMES = f"""
SELECT site_id, toString(event_id), toUnixTimestamp64Milli(timestamp), '', 1 FROM {TABLE}
WHERE site_id IN {{sites:Array(String)}} AND event_id IN {{ids:Array(UUID)}}
UNION ALL
SELECT site_id, toString(event_id), toUnixTimestamp64Milli(timestamp), visitor_id, 0 FROM events
WHERE site_id IN {{sites:Array(String)}} AND toDate(timestamp) IN {{days:Array(Date)}}
  AND visitor_id IN {{visitors:Array(String)}} AND timestamp IN {{times:Array(DateTime64(3, 'UTC'))}}
  AND event_id IN {{ids:Array(UUID)}}
"""


class Selecting(Protocol):
    def select(self, query: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]: ...


class Corrected(NamedTuple):
    """One corrected events row of the batch, times in ms since the epoch."""

    site_id: str
    event_id: str
    visitor_id: str
    at: int
    correction: int
    received: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.site_id, self.event_id)

    @property
    def own(self) -> int:
        """The sender's own time: where an uncorrected copy would be."""
        return self.at - self.correction


def ms(value: datetime) -> int:
    return (value - _EPOCH) // _MS


def from_ms(value: int) -> datetime:
    return _EPOCH + value * _MS


def settle(
    rows: Sequence[Corrected], warehouse: Selecting | None
) -> tuple[dict[tuple[str, str], int], list[str]]:
    """(the time each corrected message is to be stored with, the `corrected_event_times` rows to
    insert first: those of messages not recorded yet)."""
    first: dict[tuple[str, str], Corrected] = {}
    for row in rows:
        held = first.get(row.key)
        if held is None or (row.received, row.at) < (held.received, held.at):
            first[row.key] = row
    recorded: dict[tuple[str, str], int] = {}
    kept_exactly: dict[tuple[str, str], int] = {}
    if warehouse is not None and first:
        own = {(row.site_id, row.visitor_id, row.own, row.event_id) for row in rows}
        found = warehouse.select(
            FIRST_TIMES,
            {
                "sites": sorted({site for site, _ in first}),
                "ids": sorted({event for _, event in first}),
                "days": sorted({from_ms(at).date() for _, _, at, _ in own}, key=date.toordinal),
                "visitors": sorted({visitor for _, visitor, _, _ in own}),
                "times": sorted({from_ms(at) for _, _, at, _ in own}),
            },
        )
        for site_id, event_id, at, visitor_id, is_recorded in found:
            key, at = (str(site_id), str(event_id)), int(at)
            if is_recorded and key in first:
                recorded[key] = min(at, recorded.get(key, at))
            elif not is_recorded and (key[0], str(visitor_id), at, key[1]) in own:
                kept_exactly[key] = min(at, kept_exactly.get(key, at))
    times: dict[tuple[str, str], int] = {}
    records: list[str] = []
    for key, row in first.items():
        if key in recorded:
            times[key] = recorded[key]
            continue
        times[key] = kept_exactly.get(key, row.at)
        records.append(
            orjson.dumps(
                {
                    "site_id": row.site_id,
                    "event_id": row.event_id,
                    "timestamp": from_ms(times[key]),
                    "received_at": from_ms(row.received),
                },
                option=orjson.OPT_UTC_Z,
            ).decode()
        )
    return times, records


def corrected_in_columns(fields: Sequence[str], columns: list[list[Any]]) -> list[tuple[int, Corrected]]:
    """The corrected rows of a compiled batch's columns (none, at the cost of one `any`, when no
    row is)."""
    corrections = columns[fields.index(CORRECTION)] if columns else []
    if not any(corrections):
        return []
    site, event, visitor, at, received = (
        columns[fields.index(name)]
        for name in ("site_id", "event_id", "visitor_id", "timestamp", "received_at")
    )
    return [
        (i, Corrected(site[i], str(event[i]).lower(), visitor[i], ms(at[i]), c, ms(received[i])))
        for i, c in enumerate(corrections)
        if c
    ]


def set_in_columns(
    fields: Sequence[str],
    columns: list[list[Any]],
    found: list[tuple[int, Corrected]],
    times: dict[tuple[str, str], int],
) -> None:
    at, correction = columns[fields.index("timestamp")], columns[fields.index(CORRECTION)]
    for i, row in found:
        settled = times[row.key]
        if settled != row.at:
            at[i] = from_ms(settled)
            correction[i] = settled - row.own


def corrected_in_json(rows: Sequence[str]) -> list[tuple[int, Corrected]]:
    """The corrected rows among JSON events rows (the few that take the pydantic path)."""
    found: list[tuple[int, Corrected]] = []
    for i, text in enumerate(rows):
        if _MARK not in text:
            continue
        row = orjson.loads(text)
        correction = row.get(CORRECTION)
        if not isinstance(correction, int) or not correction:
            continue
        found.append(
            (
                i,
                Corrected(
                    str(row["site_id"]),
                    str(row["event_id"]).lower(),
                    str(row.get("visitor_id", "")),
                    ms(datetime.fromisoformat(row["timestamp"])),
                    correction,
                    ms(datetime.fromisoformat(row["received_at"])),
                ),
            )
        )
    return found


def set_in_json(
    rows: list[str], found: list[tuple[int, Corrected]], times: dict[tuple[str, str], int]
) -> None:
    for i, row in found:
        settled = times[row.key]
        if settled != row.at:
            data = orjson.loads(rows[i])
            data["timestamp"] = from_ms(settled)
            data[CORRECTION] = settled - row.own
            rows[i] = orjson.dumps(data, option=orjson.OPT_UTC_Z).decode()


def set_in_derived(rows: list[str], times: dict[tuple[str, str], int]) -> None:
    """The rows a corrected message produced beside its events row take its settled time too
    (those that travelled in the batch with it, as a request's rows do in one SQS message)."""
    for i, text in enumerate(rows):
        data = orjson.loads(text)
        site_id, message_id, at = data.get("site_id"), data.get("message_id"), data.get("at")
        if not isinstance(site_id, str) or not isinstance(message_id, str) or not isinstance(at, str):
            continue
        settled = times.get((site_id, event_id(site_id, message_id)))
        if settled is not None and settled != ms(datetime.fromisoformat(at)):
            data["at"] = from_ms(settled)
            rows[i] = orjson.dumps(data, option=orjson.OPT_UTC_Z).decode()
