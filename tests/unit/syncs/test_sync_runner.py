"""The runner's one promise: a checkpoint is saved only after the rows it covers are inserted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from touchline.identity.rows import IdentityLinkRow
from touchline.load.batch import RowsRejected
from touchline.syncs.deadline import Deadline
from touchline.syncs.http import RateLimited
from touchline.syncs.runner import RunReport, run_streams
from touchline.syncs.state import Checkpoint, StreamState
from touchline.syncs.streams import Batch, Pass
from touchline.syncs.writer import RowWriter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def link(i: int) -> IdentityLinkRow:
    return IdentityLinkRow.between("s", ("visitor", f"v{i}"), ("user", f"u{i}"), "test", T0)


@dataclass
class Journal:
    """Inserts and saves in the order they happened."""

    entries: list[tuple[str, object]] = field(default_factory=list)
    fail_insert: int = 0
    reject: str = ""

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        if self.reject and any(self.reject in r for r in json_rows):
            raise RowsRejected("Code: 27. Cannot parse input")
        if self.fail_insert and sum(1 for e in self.entries if e[0] == "insert") + 1 == self.fail_insert:
            raise ConnectionError("ClickHouse is down")
        self.entries.append(("insert", len(json_rows)))

    def save(self, stream: str, checkpoint: Checkpoint, rows: int) -> None:
        self.entries.append(("save", checkpoint.watermark))


@dataclass
class Pages:
    name: str = "things"
    pages: int = 5
    per_page: int = 3
    fail_on_page: int = 0
    stop_on_page: int = 0
    min_interval: timedelta = timedelta(0)

    def batches(self, state: StreamState) -> Iterator[Batch]:
        for page in range(1, self.pages + 1):
            if page == self.fail_on_page:
                raise ValueError("the provider sent nonsense")
            if page == self.stop_on_page:
                raise RateLimited("daily quota")
            batch = Batch(records=self.per_page, checkpoint=Checkpoint(watermark=T0 + timedelta(days=page)))
            for i in range(self.per_page):
                batch.add("identity_links", link(page * 100 + i))
            yield batch


def run(stream: Pages, journal: Journal, batch_rows: int = 6, deadline: Deadline | None = None) -> RunReport:
    return run_streams(
        RunReport("s", "fake"),
        [stream],
        {},
        RowWriter(journal, batch_rows),
        journal.save,
        deadline or Deadline.unlimited(),
    )


def test_saves_follow_inserts() -> None:
    journal = Journal()
    report = run(Pages(), journal)
    assert report.complete and report.streams["things"].rows == 15
    assert journal.entries == [
        ("insert", 6),
        ("save", T0 + timedelta(days=2)),
        ("insert", 6),
        ("save", T0 + timedelta(days=4)),
        ("insert", 3),
        ("save", T0 + timedelta(days=5)),
    ]


def test_out_of_time_flushes_saves_and_stops() -> None:
    journal = Journal()
    checks = iter([1.0, 1.0, 1.0, -1.0])
    report = run(Pages(), journal, batch_rows=100, deadline=Deadline(lambda: next(checks, -1.0)))
    assert report.stopped == "out of time" and not report.error
    assert journal.entries == [("insert", 9), ("save", T0 + timedelta(days=3))]


def test_a_long_wait_limits_the_stream_keeping_what_it_fetched() -> None:
    """A quota (a wait longer than a run) ends that stream as `limited`, not the whole run."""
    journal = Journal()
    report = run(Pages(stop_on_page=3), journal, batch_rows=100)
    assert (report.stopped, report.streams["things"].status) == ("", "limited")
    assert report.streams["things"].message == "daily quota" and not report.complete
    assert journal.entries == [("insert", 6), ("save", T0 + timedelta(days=2))]


def test_a_provider_error_keeps_what_was_fetched_then_raises() -> None:
    journal = Journal()
    with pytest.raises(ValueError, match="nonsense"):
        run(Pages(fail_on_page=4), journal, batch_rows=100)
    assert journal.entries == [("insert", 9), ("save", T0 + timedelta(days=3))]


def test_clickhouse_down_saves_nothing() -> None:
    journal = Journal(fail_insert=2)
    with pytest.raises(ConnectionError):
        run(Pages(), journal)
    assert journal.entries == [("insert", 6), ("save", T0 + timedelta(days=2))]


def test_rows_clickhouse_refuses_are_isolated_and_reported() -> None:
    journal = Journal(reject="u302")
    report = run(Pages(), journal, batch_rows=100)
    assert report.complete and len(report.rejected) == 1 and "u302" in report.rejected[0]
    assert sum(n for kind, n in journal.entries if kind == "insert") == 14  # type: ignore[misc]


def test_streams_within_their_refresh_interval_are_skipped() -> None:
    journal = Journal()
    stream = Pages(min_interval=timedelta(hours=1))
    report = run_streams(
        RunReport("s", "fake"),
        [stream],
        {"things": StreamState(refreshed_at=datetime.now(UTC) - timedelta(minutes=5))},
        RowWriter(journal),
        journal.save,
        Deadline.unlimited(),
    )
    assert report.streams["things"].status == "skipped" and journal.entries == []


def test_a_pass_resumes_from_its_stored_position() -> None:
    began = T0 + timedelta(hours=5)
    first = Pass(start=T0, began=began)
    checkpoint = first.at("cursor-2")
    assert checkpoint.watermark is None  # mid-pass: the watermark stays
    resumed = Pass.resume(StreamState(watermark=T0, position=checkpoint.position), timedelta(minutes=10), T0)
    assert resumed == Pass(start=T0, began=began, cursor="cursor-2")
    assert resumed.finished() == Checkpoint(watermark=began, refreshed=True)
    fresh = Pass.resume(StreamState(watermark=began), timedelta(minutes=10), began + timedelta(hours=1))
    assert fresh.start == began - timedelta(minutes=10) and fresh.cursor is None


def test_streams_attempted_least_recently_run_first() -> None:
    """A run cut short by its deadline must not leave the same streams behind every time."""
    from touchline.syncs.runner import fair_order

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name
            self.min_interval = timedelta(0)

    now = datetime.now(UTC)
    states = {
        "a": StreamState(status="done", status_at=now),
        "b": StreamState(status="stopped", status_at=now - timedelta(hours=1)),
        "c": StreamState(),
    }
    ordered = fair_order([Named("a"), Named("b"), Named("c"), Named("d")], states)  # type: ignore[list-item]
    assert [s.name for s in ordered] == ["c", "d", "b", "a"]
