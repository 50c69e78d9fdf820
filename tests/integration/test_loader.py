"""The loader handler against the real embedded ClickHouse: packed messages, bad rows kept,
redelivery, outage."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType

import boto3
import pytest

from factories import envelope_bodies, sqs_event
from helpers import CLICKHOUSE_SECRET_NAME, LambdaContextStub, load_handler_module
from touchline.envelope import pack
from touchline.load import service
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate


@pytest.fixture
def loader_app(warehouse_url: str) -> Iterator[ModuleType]:
    service.reset()
    yield load_handler_module("loader")
    service.reset()


def scalar(url: str, sql: str) -> object:
    return connect(url).query(sql).result_rows[0][0]


def test_valid_records_load_and_invalid_ones_are_kept_with_their_reason(
    loader_app: ModuleType, warehouse_url: str, lambda_context: LambdaContextStub
) -> None:
    bodies = envelope_bodies(20)
    bad = [
        "not json",
        json.dumps({"v": 1, "kind": "event", "event": {"site_id": "x"}}),
        json.dumps({"v": 99}),
    ]
    event = sqs_event(bodies[:10] + bad + bodies[10:])
    assert loader_app.handler(event, lambda_context) == {"batchItemFailures": []}
    assert scalar(warehouse_url, "SELECT count() FROM events") == 20
    kept = connect(warehouse_url).query("SELECT message_id, body FROM rejected_rows FINAL").result_rows
    assert sorted(kept) == sorted((r["messageId"], r["body"]) for r in event["Records"][10:13])


def test_a_packed_message_loads_its_good_rows_keeps_its_bad_ones_and_redelivery_stores_each_once(
    loader_app: ModuleType, warehouse_url: str, lambda_context: LambdaContextStub
) -> None:
    good = envelope_bodies(30)
    out_of_range = good[5].replace('"timestamp":"2026-', '"timestamp":"2199-')
    packed = pack([*good[:5], out_of_range, *good[6:], '{"v":1,"kind":"events","row":{}}'], 256 * 1024)
    old = envelope_bodies(3, site_id="old-site")  # single-envelope messages left by the old collector
    packed_ids = [str(uuid.uuid4()) for _ in packed]
    event = sqs_event([*packed, *old], [*packed_ids, "o1", "o2", "o3"])
    for _ in range(2):  # a redelivery in the same batch (a retried invocation)
        assert loader_app.handler(event, lambda_context) == {"batchItemFailures": []}
    # ...and in another batch, mixed with new messages (SQS keeps a message's id).
    again = sqs_event([*packed, *envelope_bodies(1, site_id="new")], [*packed_ids, "n1"])
    assert loader_app.handler(again, lambda_context) == {"batchItemFailures": []}
    assert scalar(warehouse_url, "SELECT count() FROM events FINAL") == 29 + 3 + 1
    assert scalar(warehouse_url, "SELECT count() FROM events WHERE timestamp > '2100-01-01'") == 0
    assert scalar(warehouse_url, "SELECT count() FROM rejected_rows FINAL") == 2
    kept = connect(warehouse_url).query("SELECT position, reason FROM rejected_rows FINAL ORDER BY position")
    assert [p for p, _ in kept.result_rows] == [5, 30] and "timestamp" in kept.result_rows[0][1]


def test_rows_keep_every_field(
    loader_app: ModuleType, warehouse_url: str, lambda_context: LambdaContextStub
) -> None:
    loader_app.handler(sqs_event(envelope_bodies(10)), lambda_context)
    row = (
        connect(warehouse_url)
        .query(
            "SELECT name, event_type, revenue, currency, utm_source, utm_medium, pathname, props, "
            "visitor_id, toString(timestamp) FROM events WHERE name = 'Signup'"
        )
        .result_rows[0]
    )
    assert row == (
        "Signup",
        "goal",
        Decimal("19.99"),
        "EUR",
        "src0",
        "cpc",
        "/",
        {"variant": "v0"},
        "v0",
        "2026-11-01 00:00:00.000",
    )


def test_a_retried_batch_is_not_counted_twice(
    loader_app: ModuleType, warehouse_url: str, lambda_context: LambdaContextStub
) -> None:
    event = sqs_event(envelope_bodies(50))
    for _ in range(3):
        assert loader_app.handler(event, lambda_context) == {"batchItemFailures": []}
    # The deduplication token drops the identical re-inserts outright, not just at merge time.
    assert scalar(warehouse_url, "SELECT count() FROM events") == 50


def test_redelivered_messages_in_other_batches_are_not_counted_twice(
    loader_app: ModuleType, warehouse_url: str, lambda_context: LambdaContextStub
) -> None:
    bodies = envelope_bodies(60)
    loader_app.handler(sqs_event(bodies[:40]), lambda_context)
    # Messages 30-39 come back (visibility timeout) mixed with new ones: a different batch.
    loader_app.handler(sqs_event(bodies[30:60]), lambda_context)
    assert scalar(warehouse_url, "SELECT count() FROM events FINAL") == 60
    assert scalar(warehouse_url, "SELECT uniqExact(event_id) FROM events") == 60


def test_clickhouse_down_fails_the_whole_batch_and_a_retry_loads_it(
    loader_app: ModuleType,
    warehouse_url: str,
    lambda_context: LambdaContextStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = sqs_event(envelope_bodies(25))
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", "http://127.0.0.1:9/touchline")
    service.reset()
    with pytest.raises(Exception):  # noqa: B017 - any connection error must fail the invocation
        loader_app.handler(event, lambda_context)
    assert scalar(warehouse_url, "SELECT count() FROM events") == 0
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", warehouse_url)
    service.reset()
    assert loader_app.handler(event, lambda_context) == {"batchItemFailures": []}
    assert scalar(warehouse_url, "SELECT count() FROM events") == 25


def test_all_invalid_batch_keeps_every_record(
    loader_app: ModuleType, warehouse_url: str, lambda_context: LambdaContextStub
) -> None:
    event = sqs_event(["{}", "[]"])
    assert loader_app.handler(event, lambda_context) == {"batchItemFailures": []}
    assert scalar(warehouse_url, "SELECT count() FROM rejected_rows") == 2


def test_clickhouse_data_errors_are_told_apart_from_outages(warehouse_url: str) -> None:
    from touchline.load.batch import RowsRejected
    from touchline.load.clickhouse_sink import ClickHouseRowSink

    sink = ClickHouseRowSink(connect(warehouse_url))
    bad = '{"event_id":"00000000-0000-0000-0000-000000000001","site_id":"s","timestamp":"yesterday-ish"}'
    with pytest.raises(RowsRejected):
        sink.insert_rows("events", [bad], "t1")
    with pytest.raises(Exception) as raised:
        sink.insert_rows("no_such_table", ['{"a":1}'], "t2")
    assert not isinstance(raised.value, RowsRejected)


def test_a_rotated_clickhouse_url_secret_is_used_without_a_cold_start(
    loader_app: ModuleType,
    warehouse_url: str,
    lambda_context: LambdaContextStub,
    aws: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The URL (password included) comes from Secrets Manager, read under LoaderFunction's role;
    once the cache expires the new value is used: here the rotation moves to another database."""
    rotated = warehouse_url.rsplit("=", 1)[0] + f"=t_rotated_{uuid.uuid4().hex[:8]}"
    migrate(connect(rotated))
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=CLICKHOUSE_SECRET_NAME, SecretString=warehouse_url)
    monkeypatch.delenv("TOUCHLINE_CLICKHOUSE_URL")
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL_SECRET", CLICKHOUSE_SECRET_NAME)
    monkeypatch.setenv("TOUCHLINE_SECRET_CACHE_SECONDS", "0")
    service.reset()
    loader_app.handler(sqs_event(envelope_bodies(3)), lambda_context)
    secrets.put_secret_value(SecretId=CLICKHOUSE_SECRET_NAME, SecretString=rotated)
    loader_app.handler(sqs_event(envelope_bodies(5)), lambda_context)
    assert scalar(warehouse_url, "SELECT count() FROM events") == 3
    assert scalar(rotated, "SELECT count() FROM events") == 5


def _edge_rows() -> list[str]:
    """Rows at the edges of their columns' types, as producers may write them."""
    [base] = envelope_bodies(1)
    row = json.loads(base)["row"]
    edges = [
        {"timestamp": "2026-11-01T02:00:00.123456+02:00", "received_at": "2099-12-31T23:59:59.999Z"},
        {"event_id": str(uuid.uuid4()).upper(), "page_title": "Café ☕ 日本 \U0001f600", "city": "Zürich"},
        {"revenue": "0.0001", "currency": "BHD", "screen_width": 65535, "engagement_ms": 4_294_967_295},
        {"revenue": "-5.25", "interactive": 0, "scroll_depth": 255, "ingest_source": "api"},
        {"revenue": "99999999999999.9999", "props": {"ключ": "значение", "": ""}},
        {"revenue": "0", "props": {}, "utm_term": 'a\tb\nc\\d"e'},
        {"timestamp": "2026-11-01T13:59:59.9999+14:00", "user_id": "u" * 500},
        {"url": "https://example.com/" + "p" * 20_000},  # past the encoder's prefix table
    ]
    return [
        json.dumps({"v": 1, "kind": "events", "row": {**row, "event_id": str(uuid.uuid4()), **edge}})
        for edge in edges
    ]


def test_column_inserts_store_exactly_what_json_inserts_store(warehouse_url: str) -> None:
    from touchline.load.batch import LoadBatch
    from touchline.load.clickhouse_sink import ClickHouseRowSink

    client = connect(warehouse_url)
    client.command("CREATE TABLE events_json AS events")
    sink = ClickHouseRowSink(client)

    class JsonOnly:  # the same sink, without its column path, writing to the twin table
        def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
            sink.insert_rows("events_json" if table == "events" else table, json_rows, dedup_token)

    bodies = [*envelope_bodies(40), *_edge_rows()]
    for target in (sink, JsonOnly()):
        batch = LoadBatch(target)
        for i, message in enumerate(pack(bodies, 8192)):
            batch.add(message, key=f"m{i}")
        flushed = batch.flush()
        assert flushed.inserted == {"events": len(bodies)} and flushed.rejected == []
    columns = "* EXCEPT inserted_at"
    stored = [
        client.query(f"SELECT {columns} FROM {table} ORDER BY event_id").result_rows
        for table in ("events", "events_json")
    ]
    assert len(stored[0]) == len(bodies) and stored[0] == stored[1]
