"""EventBatch: validation per record, dedup tokens, and isolating rows ClickHouse refuses."""

from __future__ import annotations

import json

import pytest

from factories import envelope_bodies
from touchline.envelope import envelope_prefix, row_json
from touchline.ingest.rows import EventRow
from touchline.load.batch import InvalidRecord, LoadBatch, RowsRejected, dedup_token

PREFIX = envelope_prefix("events")


class FakeSink:
    """Refuses any insert containing a poisoned row, like ClickHouse refusing unparsable data."""

    def __init__(self, poison: str = "") -> None:
        self.poison = poison
        self.inserted: list[str] = []
        self.tokens: list[str] = []

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        assert table == "events"
        if self.poison and any(self.poison in row for row in json_rows):
            raise RowsRejected("Code: 27. cannot parse")
        self.inserted.extend(json_rows)
        self.tokens.append(dedup_token)


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
def test_invalid_records_raise(body: str) -> None:
    with pytest.raises(InvalidRecord):
        LoadBatch(FakeSink()).add(body)


def test_timestamp_out_of_range_is_invalid() -> None:
    [body] = envelope_bodies(1)
    with pytest.raises(InvalidRecord, match="timestamp"):
        LoadBatch(FakeSink()).add(body.replace("2026-11-01T", "1899-11-01T"))


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


def test_rows_clickhouse_refuses_are_isolated_and_the_rest_load() -> None:
    bodies = envelope_bodies(9)
    poisoned = {3, 7}
    sink = FakeSink(poison="POISON")
    batch = LoadBatch(sink)
    for i, body in enumerate(bodies):
        batch.add(body.replace('"pathname":"', '"pathname":"/POISON') if i in poisoned else body, key=f"m{i}")
    inserted, rejected = batch.flush()
    assert sorted(rejected) == ["m3", "m7"]
    assert inserted == {"events": 7}
    assert all("POISON" not in row for row in sink.inserted)
