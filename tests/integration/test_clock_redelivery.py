"""A redelivered tracking-API body is stored once whatever the sender's clock (docs/tracking-api.md,
"Timestamps"): the tracking API → envelopes → loader → the embedded ClickHouse, in process.

The same body (same `sentAt`, same messageIds) reaches the API again later, so its clock offset
`receivedAt - sentAt` has grown by the delay: a skew-corrected time would differ on each copy.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tracking_pipeline import KEY, RECEIVED, Pipeline

from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.tracking.api import ApiRequest
from touchline.warehouse.client import connect


def stale_body(sent_at: datetime, prefix: str, count: int = 5) -> list[dict[str, Any]]:
    """An SDK's batch: each call stamped a little before `sent_at`, by the same clock."""
    return [
        {
            "type": "track",
            "event": "Retried",
            "anonymousId": f"{prefix}-visitor-{i}",
            "messageId": f"{prefix}-msg-{i}",
            "timestamp": (sent_at - timedelta(seconds=10 + i)).isoformat(),
        }
        for i in range(count)
    ]


def send_at(
    pipeline: Pipeline, received: datetime, messages: list[dict[str, Any]], sent_at: datetime
) -> None:
    pipeline.received = received
    body = {"batch": messages, "sentAt": sent_at.isoformat()}
    auth = {"authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()}
    answer = pipeline.api.handle(ApiRequest("batch", json.dumps(body).encode(), auth)).body()
    assert answer["accepted"] == len(messages)


def times(pipeline: Pipeline) -> list[tuple[str, datetime, int]]:
    """(visitor, time, rows) of each message under FINAL, times in UTC."""
    return [
        (str(anon), at if at.tzinfo else at.replace(tzinfo=UTC), int(n))
        for anon, at, n in pipeline.sql(
            "SELECT visitor_id, any(timestamp), count() FROM events FINAL WHERE site_id = {site:String}"
            " GROUP BY visitor_id ORDER BY visitor_id"
        )
    ]


def test_a_stale_sent_at_redelivered_minutes_later_is_stored_once_with_the_first_time(
    pipeline: Pipeline,
) -> None:
    sent = RECEIVED - timedelta(days=3, seconds=5)  # a device clock 3 days behind
    body = stale_body(sent, "stale")
    send_at(pipeline, RECEIVED, body, sent)
    pipeline.deliver()
    first = times(pipeline)
    assert [n for _, _, n in first] == [1] * 5
    # Each time shifted by the offset, rounded to the minute: 3 days.
    assert [at for _, at, _ in first] == [
        sent - timedelta(seconds=10 + i) + timedelta(days=3) for i in range(5)
    ]
    for later in (timedelta(minutes=7), timedelta(minutes=31), timedelta(hours=5)):
        send_at(pipeline, RECEIVED + later, body, sent)  # the SDK's disk queue sends the same body
        pipeline.deliver()
        assert times(pipeline) == first, later
    [[recorded]] = pipeline.sql(
        "SELECT count() FROM corrected_event_times FINAL WHERE site_id = {site:String}"
    )
    assert recorded == 5


def test_copies_either_side_of_a_half_minute_are_stored_once(pipeline: Pipeline) -> None:
    # Offsets of 2 min 29.9 s and 2 min 30.1 s round to 2 and 3 minutes: two times without the loader.
    sent = RECEIVED - timedelta(minutes=2, seconds=29, milliseconds=900)
    body = stale_body(sent, "half")
    send_at(pipeline, RECEIVED, body, sent)
    send_at(pipeline, RECEIVED + timedelta(milliseconds=200), body, sent)
    pipeline.deliver()  # both copies in one loader batch, then in others
    rows = times(pipeline)
    assert [n for _, _, n in rows] == [1] * 5
    first_copy = [sent - timedelta(seconds=10 + i) + timedelta(minutes=2) for i in range(5)]
    assert [at for _, at, _ in rows] == first_copy


def test_a_body_first_kept_exactly_then_corrected_on_a_late_retry_is_stored_once(pipeline: Pipeline) -> None:
    # A synced sender: the first copy's offset is 2 s, its times kept exactly; the same body
    # again 6 minutes later has an offset of 6 minutes and would be moved by them.
    sent = RECEIVED - timedelta(seconds=2)
    body = stale_body(sent, "synced")
    send_at(pipeline, RECEIVED, body, sent)
    pipeline.deliver()
    first = times(pipeline)
    assert [at for _, at, _ in first] == [sent - timedelta(seconds=10 + i) for i in range(5)]
    send_at(pipeline, RECEIVED + timedelta(minutes=6), body, sent)
    pipeline.deliver()
    assert times(pipeline) == first
    [[corrections]] = pipeline.sql(
        "SELECT groupUniqArray(clock_correction_ms) FROM events FINAL WHERE site_id = {site:String}"
    )
    assert corrections == [0]


class Recording:
    """The real sink, counting its reads, optionally failing the first `events` insert (a crash
    after the `corrected_event_times` insert) or taking JSON rows only."""

    def __init__(self, url: str, *, crash_on_events: bool = False) -> None:
        self.real = ClickHouseRowSink(connect(url))
        self.selects = 0
        self.crash_on_events = crash_on_events
        self.tables: list[str] = []

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        self._crash(table)
        self.real.insert_rows(table, json_rows, dedup_token)

    def insert_columns(
        self, table: str, names: Sequence[str], columns: Sequence[Sequence[Any]], dedup_token: str
    ) -> None:
        self._crash(table)
        self.real.insert_columns(table, names, columns, dedup_token)

    def select(self, query: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]:
        self.selects += 1
        return self.real.select(query, parameters)

    def _crash(self, table: str) -> None:
        self.tables.append(table)
        if table == "events" and self.crash_on_events:
            self.crash_on_events = False
            raise ConnectionError("the loader died here")


class JsonOnly:
    """A sink without column inserts: every events row takes the JSON path."""

    def __init__(self, sink: Recording) -> None:
        self.sink = sink

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        self.sink.insert_rows(table, json_rows, dedup_token)

    def select(self, query: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]:
        return self.sink.select(query, parameters)


def load(sink: Any, bodies: list[str]) -> None:
    batch = LoadBatch(sink)
    for i, body in enumerate(bodies):
        batch.add(body, key=f"m{i}")
    assert batch.flush().failed_messages == []


def queued(pipeline: Pipeline) -> list[str]:
    bodies = list(pipeline.queue.bodies)
    pipeline.queue.bodies.clear()
    return bodies


@pytest.mark.parametrize("json_only", [False, True], ids=["columns", "json"])
def test_a_batch_without_corrected_rows_reads_nothing_and_one_with_them_reads_once(
    pipeline: Pipeline, json_only: bool
) -> None:
    sink = Recording(pipeline.url)
    use: Any = JsonOnly(sink) if json_only else sink
    sent = RECEIVED - timedelta(seconds=1)
    send_at(pipeline, RECEIVED, stale_body(sent, "synced", 20), sent)
    load(use, queued(pipeline))
    assert sink.selects == 0 and "corrected_event_times" not in sink.tables
    stale = RECEIVED - timedelta(days=2)
    for delay in (timedelta(0), timedelta(minutes=9)):
        send_at(pipeline, RECEIVED + delay, stale_body(stale, "stale", 20), stale)
        send_at(pipeline, RECEIVED + delay, stale_body(sent, "synced-again", 3), sent)
        load(use, queued(pipeline))
    assert sink.selects == 2
    rows = times(pipeline)
    assert len(rows) == 43 and {n for _, _, n in rows} == {1}


def test_a_crash_between_the_record_and_the_events_insert_loses_nothing_and_stores_once(
    pipeline: Pipeline,
) -> None:
    sent = RECEIVED - timedelta(hours=4, seconds=20)  # 4 hours behind
    body = stale_body(sent, "crash")
    send_at(pipeline, RECEIVED, body, sent)
    first_copy = queued(pipeline)
    crashing = Recording(pipeline.url, crash_on_events=True)
    with pytest.raises(ConnectionError):
        load(crashing, first_copy)
    # Recorded, not stored: the SQS message goes back to the queue whole.
    assert pipeline.sql("SELECT count() FROM events WHERE site_id = {site:String}") == [(0,)]
    assert pipeline.sql("SELECT count() FROM corrected_event_times WHERE site_id = {site:String}") == [(5,)]
    # Another copy of the body, 3 minutes later, arrives before the redelivery...
    send_at(pipeline, RECEIVED + timedelta(minutes=3), body, sent)
    sink = Recording(pipeline.url)
    load(sink, queued(pipeline))
    # ...then SQS redelivers the first copy's message, as it was.
    load(sink, first_copy)
    rows = times(pipeline)
    assert [n for _, _, n in rows] == [1] * 5
    assert [at for _, at, _ in rows] == [
        sent - timedelta(seconds=10 + i) + timedelta(hours=4) for i in range(5)
    ]


def test_the_rows_a_corrected_message_derives_take_its_first_time_too(pipeline: Pipeline) -> None:
    # video_events and cart_events have the time in their key, as events does.
    sent = RECEIVED - timedelta(days=1, seconds=4)
    stamped = (sent - timedelta(seconds=30)).isoformat()
    body = [
        {
            "type": "track",
            "event": "Video Playback Started",
            "anonymousId": "viewer",
            "messageId": "derived-video",
            "timestamp": stamped,
            "properties": {"session_id": "vs-1"},
        },
        {
            "type": "track",
            "event": "Product Added",
            "anonymousId": "viewer",
            "messageId": "derived-cart",
            "timestamp": stamped,
            "properties": {"cart_id": "cart-1", "product_id": "p-1", "price": 5, "quantity": 1},
        },
    ]
    for later in (timedelta(0), timedelta(minutes=8)):
        send_at(pipeline, RECEIVED + later, body, sent)
        pipeline.deliver()
    first = datetime.fromisoformat(stamped) + timedelta(days=1)
    for table in ("video_events", "cart_events"):
        [(count, at)] = pipeline.sql(
            f"SELECT count(), any(at) FROM {table} FINAL WHERE site_id = {{site:String}}"
        )
        assert (count, at if at.tzinfo else at.replace(tzinfo=UTC)) == (1, first), table
