"""EventBatch: validation per record, dedup tokens, and isolating rows ClickHouse refuses."""

from __future__ import annotations

import json

import pytest

from factories import envelope_bodies
from touchline.ingest.envelope import ENVELOPE_PREFIX, EventEnvelope, row_json
from touchline.load.batch import EventBatch, InvalidRecord, RowsRejected, dedup_token


class FakeSink:
    """Refuses any insert containing a poisoned row, like ClickHouse refusing unparsable data."""

    def __init__(self, poison: str = "") -> None:
        self.poison = poison
        self.inserted: list[str] = []
        self.tokens: list[str] = []

    def insert_events(self, json_rows: list[str], dedup_token: str) -> None:
        if self.poison and any(self.poison in row for row in json_rows):
            raise RowsRejected("Code: 27. cannot parse")
        self.inserted.extend(json_rows)
        self.tokens.append(dedup_token)


def test_dedup_token_ignores_order_and_changes_with_content() -> None:
    assert dedup_token([2, 1]) == dedup_token([1, 2])
    assert dedup_token([1, 2]) != dedup_token([1, 3])


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"v": 2, "kind": "event", "event": {}}),
        json.dumps({"v": 1, "kind": "page", "event": {}}),
        ENVELOPE_PREFIX + '{"event_id":"x","site_id":"s"}}',
    ],
)
def test_invalid_records_raise(body: str) -> None:
    with pytest.raises(InvalidRecord):
        EventBatch(FakeSink()).add(body)


def test_timestamp_out_of_range_is_invalid() -> None:
    [body] = envelope_bodies(1)
    with pytest.raises(InvalidRecord, match="timestamp"):
        EventBatch(FakeSink()).add(body.replace("2026-11-01T", "1899-11-01T"))


def test_canonical_body_is_passed_through_and_other_forms_reserialised() -> None:
    [body] = envelope_bodies(1)
    envelope = EventEnvelope.model_validate_json(body)
    assert row_json(body, envelope) == body[len(ENVELOPE_PREFIX) : -1]
    spaced = json.dumps(json.loads(body), indent=1)
    assert json.loads(row_json(spaced, envelope)) == json.loads(body)["event"]
    # A nested "event" key must not fool the slicing.
    tricky = body.replace('"props":{', '"props":{"event":"x",')
    tricky_env = EventEnvelope.model_validate_json(tricky)
    assert json.loads(row_json(tricky, tricky_env))["props"]["event"] == "x"


def test_rows_clickhouse_refuses_are_isolated_and_the_rest_load() -> None:
    bodies = envelope_bodies(9)
    poisoned = {3, 7}
    sink = FakeSink(poison="POISON")
    batch = EventBatch(sink)
    for i, body in enumerate(bodies):
        batch.add(body.replace('"pathname":"', '"pathname":"/POISON') if i in poisoned else body, key=f"m{i}")
    inserted, rejected = batch.flush()
    assert sorted(rejected) == ["m3", "m7"]
    assert inserted == 7
    assert all("POISON" not in row for row in sink.inserted)
