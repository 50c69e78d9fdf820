"""One run of one site+provider: its streams in turn, rows into ClickHouse, then checkpoints.

The order inside a batch is always: add rows → (when the writer is full, or the stream ends, or
the run must stop) flush → save the checkpoint of the last batch added. So a stored watermark never
covers a row that is not in ClickHouse. Out of time, or told to wait longer than a run can, the
run flushes, saves and stops: the next run resumes from there. A provider error stops the run
after saving what was already durable; the error is reported, the watermark stays behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from touchline.syncs.deadline import Deadline
from touchline.syncs.http import StopRun
from touchline.syncs.state import Checkpoint, StreamState
from touchline.syncs.streams import Stream
from touchline.syncs.writer import RowWriter

log = logging.getLogger("touchline.syncs")


@dataclass
class StreamProgress:
    stream: str
    records: int = 0
    rows: int = 0
    reached: datetime | None = None  # how far in time the stream has got
    started_from: datetime | None = None  # its watermark when the run began
    status: str = "pending"  # pending | done | stopped | skipped | failed
    skipped: list[str] = field(default_factory=list)  # records the provider sent that were unusable


@dataclass
class RunReport:
    site_id: str
    provider: str
    streams: dict[str, StreamProgress] = field(default_factory=dict)
    stopped: str = ""  # why the run stopped early (deadline, rate limit), "" if it finished
    error: str = ""
    rejected: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.stopped and not self.error

    def summary(self) -> dict[str, object]:
        return {
            "site_id": self.site_id,
            "provider": self.provider,
            "complete": self.complete,
            "stopped": self.stopped,
            "error": self.error,
            "rejected": len(self.rejected),
            "streams": {
                name: {
                    "status": p.status,
                    "records": p.records,
                    "rows": p.rows,
                    "started_from": p.started_from.isoformat() if p.started_from else None,
                    "reached": p.reached.isoformat() if p.reached else None,
                    "skipped": p.skipped[:5],
                }
                for name, p in self.streams.items()
            },
        }


Progress = Callable[[StreamProgress], None]
SaveCheckpoint = Callable[[str, Checkpoint, int], None]


def run_streams(
    report: RunReport,
    streams: Iterable[Stream],
    states: dict[str, StreamState],
    writer: RowWriter,
    save: SaveCheckpoint,
    deadline: Deadline,
    *,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunReport:
    for stream in streams:
        state = states.get(stream.name, StreamState())
        track = report.streams.setdefault(
            stream.name, StreamProgress(stream.name, started_from=state.watermark)
        )
        if state.refreshed_at is not None and now() - state.refreshed_at < stream.min_interval:
            track.status = "skipped"
            continue
        if deadline.passed:
            report.stopped = report.stopped or "out of time"
            break
        try:
            _run_stream(stream, state, track, writer, save, deadline, progress)
        except StopRun as stop:
            track.status = "stopped"
            report.stopped = str(stop)
            break
        except Exception as exc:
            track.status = "failed"
            report.error = str(exc) or type(exc).__name__
            raise
        finally:
            report.rejected = list(writer.rejected)
    return report


def _run_stream(
    stream: Stream,
    state: StreamState,
    track: StreamProgress,
    writer: RowWriter,
    save: SaveCheckpoint,
    deadline: Deadline,
    progress: Progress | None,
) -> None:
    pending: Checkpoint | None = None
    unsaved_rows = 0

    def commit() -> None:
        nonlocal pending, unsaved_rows
        writer.flush()
        if pending is not None:
            save(stream.name, pending, unsaved_rows)
        pending, unsaved_rows = None, 0

    try:
        for batch in stream.batches(state):
            for table, row in batch.rows:
                writer.add(table, row)
            pending = batch.checkpoint
            unsaved_rows += len(batch.rows)
            track.skipped.extend(batch.skipped[:20])
            track.records += batch.records
            track.rows += len(batch.rows)
            track.reached = batch.reached or track.reached
            if progress is not None:
                progress(track)
            if writer.full:
                commit()
            if deadline.passed:
                raise StopRun("out of time")
    except StopRun:
        commit()
        raise
    except Exception:
        # What is buffered was fetched correctly; keep it and its checkpoint, then report.
        try:
            commit()
        except Exception:
            log.exception("could not save %s rows fetched before the error", stream.name)
        raise
    commit()
    track.status = "done"
