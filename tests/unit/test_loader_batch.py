"""LoadBatch: packed messages unpacked, validation per envelope (bad rows kept, never blocking
the good ones of their message), dedup tokens, and isolating rows ClickHouse refuses; with a sink
that takes JSON rows only and with one that takes columns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from factories import envelope_bodies
from touchline.envelope import envelope_prefix, pack, row_json
from touchline.ingest.rows import EventRow
from touchline.load.batch import REJECTED_TABLE, LoadBatch, RowsRejected, dedup_token

PREFIX = envelope_prefix("events")


class FakeSink:
    """Refuses any insert containing a poisoned row, like ClickHouse refusing unparsable data."""

    def __init__(self, poison: str = "", refuse_rejected: bool = False) -> None:
        self.poison = poison
        self.refuse_rejected = refuse_rejected
        self.inserted: list[str] = []
        self.ids: list[str] = []
        self.tokens: list[str] = []
        self.rejected: list[dict[str, object]] = []

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        if table == REJECTED_TABLE:
            if self.refuse_rejected:
                raise RowsRejected("Code: 27. cannot parse")
            self.rejected.extend(json.loads(row) for row in json_rows)
            return
        assert table == "events"
        if self.poison and any(self.poison in row for row in json_rows):
            raise RowsRejected("Code: 27. cannot parse")
        self.inserted.extend(json_rows)
        self.ids.extend(json.loads(row)["event_id"] for row in json_rows)
        self.tokens.append(dedup_token)


# What the table fills in for a column an insert leaves out (EventRow's defaults mirror it).
TABLE_DEFAULTS = {
    name: info.get_default(call_default_factory=True)
    for name, info in EventRow.model_fields.items()
    if not info.is_required()
}


class FakeColumnSink(FakeSink):
    """The same, taking the compiled kind's rows column by column as the ClickHouse sink does."""

    def __init__(self, poison: str = "", refuse_rejected: bool = False) -> None:
        super().__init__(poison, refuse_rejected)
        self.rows: list[dict[str, Any]] = []
        self.names: list[Sequence[str]] = []

    def insert_columns(
        self, table: str, names: Sequence[str], columns: Sequence[Sequence[Any]], dedup_token: str
    ) -> None:
        assert table == "events"
        rows = [
            {**TABLE_DEFAULTS, **dict(zip(names, values, strict=True))}
            for values in zip(*columns, strict=True)
        ]
        self.names.append(names)
        if self.poison and any(self.poison in row["pathname"] for row in rows):
            raise RowsRejected("Code: 27. cannot parse")
        self.rows.extend(rows)
        self.ids.extend(row["event_id"] for row in rows)
        self.tokens.append(dedup_token)


@pytest.fixture(params=[FakeSink, FakeColumnSink], ids=["json-sink", "column-sink"])
def sink_type(request: pytest.FixtureRequest) -> type[FakeSink]:
    return request.param  # type: ignore[no-any-return]


def ids(bodies: list[str]) -> list[str]:
    return sorted(json.loads(body)["row"]["event_id"] for body in bodies)


def test_dedup_token_ignores_order_and_changes_with_content() -> None:
    assert dedup_token(["b", "a"]) == dedup_token(["a", "b"])
    assert dedup_token(["a", "b"]) != dedup_token(["a", "c"])
    assert dedup_token(["ab"]) != dedup_token(["a", "b"])


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"v": 2, "kind": "events", "row": {}}),
        json.dumps({"v": 1, "kind": "pages", "row": {}}),
        PREFIX + '{"event_id":"x","site_id":"s"}}',
        PREFIX + "{}}",
    ],
)
def test_invalid_records_are_kept_with_their_reason(body: str) -> None:
    sink = FakeSink()
    batch = LoadBatch(sink)
    batch.add(body, key="m1")
    flushed = batch.flush()
    assert flushed.inserted == {} and flushed.failed_messages == [] and sink.inserted == []
    [kept] = sink.rejected
    assert kept["message_id"] == "m1" and kept["position"] == 0 and kept["body"] == body
    assert str(kept["reason"]).startswith("invalid envelope")


def test_timestamp_out_of_range_is_invalid() -> None:
    [body] = envelope_bodies(1)
    batch = LoadBatch(FakeSink())
    batch.add(body.replace("2026-11-01T", "1899-11-01T"))
    [rejected] = batch.flush().rejected
    assert "timestamp" in rejected.reason


def test_a_bad_row_never_blocks_the_good_rows_of_its_message(sink_type: type[FakeSink]) -> None:
    good = envelope_bodies(5)
    bad = good[2].replace('"site_id":"site1"', '"site_id":""')
    [message] = pack([*good[:2], bad, "not json", *good[3:]], 256 * 1024)
    sink = sink_type()
    batch = LoadBatch(sink)
    batch.add(message, key="m1")
    flushed = batch.flush()
    assert flushed.inserted == {"events": 4} and flushed.failed_messages == []
    assert sorted(sink.ids) == ids([*good[:2], *good[3:]])
    assert [(r["position"], r["body"]) for r in sink.rejected] == [(2, bad), (3, "not json")]
    assert "site_id" not in sink.rejected[0] and sink.rejected[0]["kind"] == "events"  # "" is the default
    assert "site_id" in str(sink.rejected[0]["reason"])


def test_old_single_envelope_messages_and_indented_ones_still_load(sink_type: type[FakeSink]) -> None:
    [body] = envelope_bodies(1)
    sink = sink_type()
    batch = LoadBatch(sink)
    batch.add(body, key="old")
    batch.add(json.dumps(json.loads(body), indent=2), key="indented")
    assert batch.flush().inserted == {"events": 2} and sink.rejected == []


def test_rows_that_cannot_be_kept_send_their_message_back_to_the_queue(sink_type: type[FakeSink]) -> None:
    good = envelope_bodies(2)
    batch = LoadBatch(sink_type(refuse_rejected=True))
    batch.add("\n".join([good[0], "{}"]), key="m1")
    batch.add(good[1], key="m2")
    flushed = batch.flush()
    assert flushed.inserted == {"events": 2} and flushed.failed_messages == ["m1"]


def test_canonical_body_is_passed_through_and_other_forms_reserialised() -> None:
    [body] = envelope_bodies(1)
    row = EventRow.model_validate(json.loads(body)["row"])
    assert row_json(body, "events", row) == body[len(PREFIX) : -1]
    spaced = json.dumps(json.loads(body), indent=1)
    assert json.loads(row_json(spaced, "events", row)) == json.loads(body)["row"]
    # A nested "row" key must not fool the slicing.
    tricky = body.replace('"props":{', '"props":{"row":"x",')
    tricky_row = EventRow.model_validate(json.loads(tricky)["row"])
    assert json.loads(row_json(tricky, "events", tricky_row))["props"]["row"] == "x"


def test_rows_clickhouse_refuses_are_isolated_and_the_rest_load(sink_type: type[FakeSink]) -> None:
    bodies = envelope_bodies(9)
    poisoned = {3, 7}
    sink = sink_type(poison="POISON")
    batch = LoadBatch(sink)
    for i, body in enumerate(bodies):
        batch.add(body.replace('"pathname":"', '"pathname":"/POISON') if i in poisoned else body, key=f"m{i}")
    inserted, rejected, failed = batch.flush()
    assert sorted(r.origin.message_id for r in rejected) == ["m3", "m7"] and failed == []
    assert inserted == {"events": 7}
    assert sorted(sink.ids) == ids([b for i, b in enumerate(bodies) if i not in poisoned])
    assert all(str(r["reason"]).startswith("refused by ClickHouse") for r in sink.rejected)
    assert {r["message_id"] for r in sink.rejected} == {"m3", "m7"}


def test_columns_hold_the_values_pydantic_reads_from_the_same_rows() -> None:
    bodies = envelope_bodies(30)
    sink = FakeColumnSink()
    batch = LoadBatch(sink)
    for i, message in enumerate(pack(bodies, 4096)):
        batch.add(message, key=f"m{i}")
    assert batch.flush().inserted == {"events": 30} and sink.inserted == []
    expected = [EventRow.model_validate_json(body[len(PREFIX) : -1]).model_dump() for body in bodies]
    for row in expected:
        row["event_id"] = str(row["event_id"])
    assert sorted(sink.rows, key=lambda r: r["event_id"]) == sorted(expected, key=lambda r: r["event_id"])
    assert any(row["revenue"] is not None for row in sink.rows)
    # Columns holding only their default are left to the table, like keys left out of JSON.
    [names] = sink.names
    assert "revenue" in names and "utm_term" not in names and "event_id" in names


def test_rows_only_pydantic_accepts_are_written_as_json_beside_the_columns() -> None:
    bodies = envelope_bodies(4)
    reordered = json.dumps({"kind": "events", "v": 1, "row": json.loads(bodies[1])["row"]})
    sink = FakeColumnSink()
    batch = LoadBatch(sink)
    batch.add("\n".join([bodies[0], reordered, *bodies[2:]]), key="m1")
    flushed = batch.flush()
    assert flushed.inserted == {"events": 4} and flushed.rejected == []
    assert [json.loads(row)["event_id"] for row in sink.inserted] == ids([bodies[1]])
    assert sorted(sink.ids) == ids(bodies) and len(sink.tokens) == 2


def test_column_inserts_of_the_same_rows_carry_the_same_token_in_any_order() -> None:
    bodies = envelope_bodies(6)
    tokens = []
    for order in (bodies, bodies[::-1]):
        sink = FakeColumnSink()
        batch = LoadBatch(sink)
        for i, body in enumerate(order):
            batch.add(body, key=f"m{i}")
        batch.flush()
        tokens.append(sink.tokens)
    assert tokens[0] == tokens[1] and len(tokens[0]) == 1
    other = FakeColumnSink()
    batch = LoadBatch(other)
    for body in bodies[:5]:
        batch.add(body)
    batch.flush()
    assert other.tokens != tokens[0]


def test_the_dedup_token_is_the_sha256_of_the_sorted_rows_whatever_their_number() -> None:
    """Hashed in chunks, the token stays the SHA-256 of the sorted rows each followed by a
    newline: a batch redelivered after this change deduplicates against the token written
    before it, and any order of the same rows gives the same token."""
    import hashlib
    import random

    for count in (0, 1, 255, 256, 257, 1_000):
        rows = [f'{{"n":{i},"x":"{"é" * (i % 3)}"}}' for i in range(count)]
        expected = hashlib.sha256("".join(row + "\n" for row in sorted(rows)).encode()).hexdigest()
        shuffled = rows[:]
        random.Random(count).shuffle(shuffled)
        assert dedup_token(rows) == dedup_token(shuffled) == expected


def test_the_sink_lets_go_of_the_columns_it_hands_clickhouse_connect() -> None:
    """clickhouse-connect's InsertContext keeps the list of columns it was given in a reference
    cycle; the sink empties that list after the insert, refused or not, and leaves the batch's own
    columns as they were (bisection slices those)."""
    from touchline.load.clickhouse_sink import ClickHouseRowSink

    class Client:
        handed: list[list[Any]] = []

        def query(self, sql: str, parameters: Any = None) -> Any:
            return type("Result", (), {"result_rows": [("a", "String"), ("b", "UInt8")]})()

        def insert(self, table: str, data: list[Any], **options: Any) -> None:
            self.handed.append(data)
            if table == "refused":
                from clickhouse_connect.driver.exceptions import DatabaseError

                raise DatabaseError("Code: 27. DB::Exception: cannot parse")

    client = Client()
    sink = ClickHouseRowSink(client)  # type: ignore[arg-type]
    columns: list[list[Any]] = [["x", "y"], [1, 2]]
    sink.insert_columns("events", ["a", "b"], columns, "t1")
    with pytest.raises(RowsRejected):
        sink.insert_columns("refused", ["a", "b"], columns, "t2")
    assert client.handed == [[], []] and columns == [["x", "y"], [1, 2]]
