"""What every provider stream is: batches of rows, each with the checkpoint it earns once durable.

A stream (Klaviyo orders, Shopify customers, Gorgias tickets…) reads its stored state, fetches
pages from the provider and yields `Batch`es. It never writes anything itself: the runner inserts
the rows and only then records the batch's checkpoint, which is what makes a crash harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from touchline.envelope import Row
from touchline.syncs.state import Checkpoint, StreamState


@dataclass
class Batch:
    rows: list[tuple[str, Row]] = field(default_factory=list)  # (table, row)
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    records: int = 0  # provider records behind these rows (for progress)
    reached: datetime | None = None  # how far the stream has got in time (for progress)
    skipped: list[str] = field(default_factory=list)  # records that cannot be stored, and why

    def add(self, table: str, row: Row) -> None:
        self.rows.append((table, row))

    def extend(self, rows: list[tuple[str, Row]]) -> None:
        self.rows.extend(rows)


class Stream(Protocol):
    name: str
    # A stream that rebuilds a window (statistics) runs at most this often; records streams: 0.
    min_interval: timedelta

    def batches(self, state: StreamState) -> Iterator[Batch]:
        """Fetch from the stored state on; each batch's checkpoint covers it and all before it."""
        ...


def since(state: StreamState, overlap: timedelta) -> datetime | None:
    """Where an incremental fetch starts: the watermark minus an overlap (None: from the start).

    The overlap re-reads records that became visible late (search indexes, clocks); re-reading is
    harmless because every table deduplicates.
    """
    return state.watermark - overlap if state.watermark is not None else None


@dataclass(frozen=True)
class Pass:
    """A pass over every record changed since `start`, for listings that cannot be sorted by time.

    Such a listing (Shopify's Admin lists page by id; Gorgias lists tickets newest first) only
    proves "everything changed since `start` was seen" once the pass ends, so the watermark moves
    only then, to when the pass *began* (anything changed during the pass is re-read next time,
    clock skew is covered by the overlap). Until then the position is stored, so a run that runs
    out of time resumes the same pass where it stopped instead of starting over.
    """

    start: datetime | None  # the filter: records changed at or after this (None: everything)
    began: datetime  # when the pass started
    cursor: str | None = None  # the provider's resume point inside the pass

    @classmethod
    def resume(cls, state: StreamState, overlap: timedelta, now: datetime) -> Pass:
        position = state.position or {}
        if "began" in position:
            start = position.get("start")
            return cls(
                start=datetime.fromisoformat(start) if start else None,
                began=datetime.fromisoformat(position["began"]),
                cursor=position.get("cursor"),
            )
        return cls(start=since(state, overlap), began=now)

    def at(self, cursor: str | None) -> Checkpoint:
        """Mid-pass: keep the watermark, remember where to go on."""
        return Checkpoint(
            position={
                "start": self.start.isoformat() if self.start else None,
                "began": self.began.isoformat(),
                "cursor": cursor,
            }
        )

    def finished(self) -> Checkpoint:
        return Checkpoint(watermark=self.began, refreshed=True)
