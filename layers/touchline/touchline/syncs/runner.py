"""One run of one site+provider: its streams in turn, rows into ClickHouse, then checkpoints.

The order inside a batch is always: add rows → (when the writer is full, or the stream ends, or
the run must stop) flush → save the checkpoint of the last batch added. So a stored watermark never
covers a row that is not in ClickHouse.

Streams are independent: each checkpoints and reports its own status. A provider error in one
stream (a refused request, a provider that keeps failing) saves what that stream already made
durable, marks it `failed` with the provider's message, and the run goes on with the next stream;
told to wait longer than a run can (a daily quota of one endpoint), a stream is `stopped` and the
others still run. Only what concerns every stream ends the run at once: out of time (the next run
resumes, and begins with the streams attempted least recently, so none starves), refused
credentials (`AuthError`), and trouble on our side (ClickHouse, DynamoDB), which raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from touchline.syncs.deadline import Deadline
from touchline.syncs.http import AuthError, RateLimited, StopRun, SyncError
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
    # pending | done | skipped | failed (the provider refused or kept failing) | limited (told to wait
    # longer than a run can: a quota) | stopped (out of time: the next run resumes)
    status: str = "pending"
    message: str = ""  # why it failed or stopped, in the provider's words
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
        return not self.stopped and not self.error and not self.unfinished

    @property
    def failed(self) -> list[StreamProgress]:
        return [p for p in self.streams.values() if p.status == "failed"]

    @property
    def unfinished(self) -> list[StreamProgress]:
        """Streams this run could not bring up to date whatever its time: failed or limited."""
        return [p for p in self.streams.values() if p.status in ("failed", "limited")]

    def summary(self) -> dict[str, object]:
        return {
            "site_id": self.site_id,
            "provider": self.provider,
            "complete": self.complete,
            "stopped": self.stopped,
            "error": self.error,
            "rejected": len(self.rejected),
            "failed": [p.stream for p in self.failed],
            "limited": [p.stream for p in self.unfinished if p.status == "limited"],
            "streams": {
                name: {
                    "status": p.status,
                    "message": p.message,
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
RecordStatus = Callable[[str, str, str], None]  # stream, status, message
_NEVER = datetime.min.replace(tzinfo=UTC)


def fair_order(streams: Iterable[Stream], states: dict[str, StreamState]) -> list[Stream]:
    """Least recently attempted first (never attempted: first of all), otherwise as given, so a
    run cut short by its deadline does not leave the same streams behind every time."""
    listed = list(streams)
    return sorted(listed, key=lambda s: states.get(s.name, StreamState()).status_at or _NEVER)


def run_streams(
    report: RunReport,
    streams: Iterable[Stream],
    states: dict[str, StreamState],
    writer: RowWriter,
    save: SaveCheckpoint,
    deadline: Deadline,
    *,
    progress: Progress | None = None,
    record: RecordStatus | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunReport:
    def ended(track: StreamProgress, status: str, message: str = "") -> None:
        track.status, track.message = status, message
        if record is not None:
            record(track.stream, status, message)

    for stream in fair_order(streams, states):
        state = states.get(stream.name, StreamState())
        track = report.streams.setdefault(
            stream.name, StreamProgress(stream.name, started_from=state.watermark)
        )
        if state.refreshed_at is not None and now() - state.refreshed_at < stream.min_interval:
            track.status = "skipped"  # fresh enough; its stored status stays that of its last run
            continue
        if deadline.passed:
            report.stopped = report.stopped or "out of time"
            break
        try:
            _run_stream(stream, state, track, writer, save, deadline, progress)
            ended(track, "done")
        except RateLimited as limited:
            ended(track, "limited", str(limited))  # this endpoint's quota; the others have their own
        except StopRun as stop:
            ended(track, "stopped", str(stop))
            report.stopped = str(stop)
            break
        except AuthError as exc:
            ended(track, "failed", str(exc))
            raise
        except SyncError as exc:
            log.warning("%s/%s stream %s failed: %s", report.site_id, report.provider, stream.name, exc)
            ended(track, "failed", str(exc) or type(exc).__name__)
        except Exception as exc:
            track.status, track.message = "failed", str(exc) or type(exc).__name__
            report.error = track.message
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
