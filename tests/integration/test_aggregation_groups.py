"""The aggregation split per site group (AggregationGroups > 1, one group per ClickHouse shard):
the real AggregatesFunction handler under its template role, moto's FIFO AggregationQueue, the
embedded engine. Groups follow the generated cluster DDL's sharding key; the schedule queues one
message per group, deduplicated per slot; each message aggregates its group's sites only; and
the group runs together leave every table equal to one run over all sites."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

import factories
from helpers import TABLE, LambdaContextStub, fresh_warehouse, load_handler_module
from touchline.aggregate.groups import GroupRun, group_of
from touchline.aggregate.service import commerce_only, run_sites
from touchline.config.sites import SiteStore
from touchline.load import service as warehouse
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.revenue.rows import OrderRow
from touchline.warehouse.client import connect
from touchline.warehouse.cluster import ClusterTarget
from touchline.warehouse.sql import ClientSql

GROUPS = 2
START = datetime(2026, 11, 1, tzinfo=UTC)


class FifteenMinutes(LambdaContextStub):
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def test_groups_are_the_shards_of_the_generated_sharding_key(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    sites = [f"site{n:03d}" for n in range(60)]
    groups = group_of(ClientSql(client), sites, 3)
    key = ClusterTarget("c", "touchline").sharding_key("events")  # the Distributed tables' key
    shards = ClientSql(client).rows(
        f"SELECT site_id, {key} % 3 FROM (SELECT arrayJoin({{s:Array(String)}}) AS site_id)", {"s": sites}
    )
    assert groups == {str(site): int(shard) for site, shard in shards}
    assert set(groups.values()) == {0, 1, 2}


def test_a_group_run_refuses_a_group_out_of_range() -> None:
    with pytest.raises(ValueError, match="not one of 2 groups"):
        GroupRun.model_validate_json('{"group": 2, "groups": 2}')


def _queue_url() -> str:
    return str(boto3.client("sqs").get_queue_url(QueueName="touchline-AggregationQueue.fifo")["QueueUrl"])


def _receive() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    got = sqs.receive_message(
        QueueUrl=_queue_url(), MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    ).get("Messages", [])
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {"MessageGroupId": m["Attributes"]["MessageGroupId"]},
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchline-AggregationQueue.fifo",
            "awsRegion": "us-east-1",
        }
        for m in got
    ]


@pytest.fixture
def world(aws: dict[str, str], chdb_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A site per group, its hits and an order loaded into two databases: `whole` (aggregated
    by one run over every site) and `grouped` (TOUCHLINE_CLICKHOUSE_URL, left to the handler)."""
    dynamodb = boto3.client("dynamodb")
    store = SiteStore(dynamodb, TABLE)
    whole = connect(fresh_warehouse(chdb_path, monkeypatch))
    grouped_url = fresh_warehouse(chdb_path, monkeypatch)
    grouped = connect(grouped_url)
    by_group: dict[int, list[str]] = {0: [], 1: []}
    n = 0
    while min(len(v) for v in by_group.values()) < 1:
        site = store.add(f"shop{n}.example.com").site_id
        n += 1
        group = group_of(ClientSql(whole), [site], GROUPS)[site]
        if by_group[group]:
            store.delete(site)
            continue
        by_group[group].append(site)
        bodies = factories.envelope_bodies(60, site_id=site, start=START)
        for client in (whole, grouped):
            batch = LoadBatch(ClickHouseRowSink(client))
            for body in bodies:
                batch.add(body)
            batch.flush()
            ClickHouseRowSink(client).insert_rows("orders", [_order(site)], f"{site}-order")
    run_sites(whole, dynamodb, TABLE, remaining_ms=lambda: 900_000)
    _forget_watermarks(dynamodb)  # the grouped runs start from nothing, as the whole one did
    monkeypatch.setenv("TOUCHLINE_AGGREGATION_GROUPS", str(GROUPS))
    monkeypatch.setenv("TOUCHLINE_AGGREGATION_QUEUE_URL", _queue_url())
    warehouse.reset()
    yield {"whole": whole, "grouped": grouped, "groups": by_group}
    warehouse.reset()


def _order(site: str) -> str:
    return OrderRow(
        site_id=site,
        source="stripe",
        order_id=f"o-{site}",
        status="paid",
        ordered_at=START + timedelta(seconds=50),
        currency="USD",
        amount=Decimal("42.00"),
        visitor_id="v1",  # envelope_bodies' visitors are v0…v96
        version=1,
    ).to_json()


def _forget_watermarks(dynamodb: Any) -> None:
    items = dynamodb.scan(TableName=TABLE)["Items"]
    for item in items:
        if item["sk"]["S"].startswith("WATERMARK#"):
            dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})


def _tables(client: Any) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "sessions": "SELECT site_id, session_id, visitor_id, hits, pageviews, goals, channel, source "
        "FROM sessions FINAL ORDER BY ALL",
        "credits": "SELECT site_id, conversion_id, model, session_id, round(credit, 9), attributed_revenue "
        "FROM attribution_credits FINAL ORDER BY ALL",
    }
    return {name: [tuple(r) for r in client.query(sql).result_rows] for name, sql in queries.items()}


def test_the_schedule_fans_out_and_the_groups_equal_one_run(world: dict[str, Any]) -> None:
    aggregates = load_handler_module("aggregates")
    assert aggregates.handler({}, FifteenMinutes()) == {"queued": [0, 1]}
    # EventBridge Scheduler retrying the same slot's invocation queues nothing new.
    assert aggregates.handler({}, FifteenMinutes()) == {"queued": [0, 1]}
    records = _receive()
    assert sorted(r["attributes"]["MessageGroupId"] for r in records) == ["0", "1"]
    assert _tables(world["grouped"]) == {"sessions": [], "credits": []}

    done: set[str] = set()
    for record in records:  # each run aggregates its own group's sites, and no other
        assert aggregates.handler({"Records": [record]}, FifteenMinutes()) == {"batchItemFailures": []}
        done |= set(world["groups"][GroupRun.model_validate_json(record["body"]).group])
        assert _sites_with_sessions(world["grouped"]) == done

    whole, grouped = _tables(world["whole"]), _tables(world["grouped"])
    assert {r[0] for r in whole["sessions"]} == {s for g in world["groups"].values() for s in g}
    assert whole["credits"], "the world has conversions to attribute"
    assert grouped == whole

    # A by-hand run of one site (`touchline aggregate run --site`) waits on its group's queue.
    site = world["groups"][1][0]
    assert aggregates.handler({"site": site, "full": True}, FifteenMinutes()) == {"queued": [1]}
    assert _receive() == []  # group 1's last run is still in flight: FIFO holds the next back
    for done_record in records:  # Lambda deletes what its handler finished
        boto3.client("sqs").delete_message(QueueUrl=_queue_url(), ReceiptHandle=done_record["receiptHandle"])
    (record,) = _receive()
    assert record["attributes"]["MessageGroupId"] == "1"
    assert GroupRun.model_validate_json(record["body"]) == GroupRun(site=site, full=True, group=1, groups=2)

    # `touchline commerce run` is queued the same way, and a group's commerce run keeps to its sites.
    assert aggregates.handler({"job": "commerce"}, FifteenMinutes()) == {"queued": [0, 1]}
    (commerce,) = _receive()  # group 1 is held behind its by-hand run
    assert GroupRun.model_validate_json(commerce["body"]) == GroupRun(job="commerce", group=0, groups=2)
    assert aggregates.handler({"Records": [commerce]}, FifteenMinutes()) == {"batchItemFailures": []}
    assert commerce_only(world["grouped"], None, TABLE, world["groups"][1][0], False, (0, 2)) == {
        "commerce": [],
        "skipped": [],
    }  # another group's site: nothing to do


def _sites_with_sessions(client: Any) -> set[str]:
    return {str(r[0]) for r in client.query("SELECT DISTINCT site_id FROM sessions").result_rows}
