"""One person across devices, end to end in-process: API envelopes → loader → ClickHouse →
resolution → GDPR export and delete."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from clickhouse_connect.driver.client import Client

from helpers import TABLE
from touchline.config.personal_items import delete_config_items
from touchline.config.write_keys import WriteKey
from touchline.enrichment import FullEnricher
from touchline.identity.gdpr import delete, export, find_subject
from touchline.identity.resolve import resolve
from touchline.ingest.queue import ListQueue
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.tracking.api import ApiRequest, TrackingApi
from touchline.tracking.convert import MessageConverter
from touchline.tracking.enrich import ContextEnricher
from touchline.tracking.keys import WriteKeyResolver
from touchline.warehouse.client import connect
from touchline.warehouse.sql import ClientSql

SITE = "site1"
KEY = "tlwk_k"


class Keys:
    def lookup(self, key: str) -> WriteKey | None:
        return WriteKey("kid", SITE, "shop.example.com", "", False) if key == KEY else None


def send(batch: list[dict[str, Any]], client: Client) -> None:
    queue = ListQueue()
    api = TrackingApi(WriteKeyResolver(Keys()), queue, MessageConverter(ContextEnricher(FullEnricher())))
    auth = {"authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()}
    api.handle(ApiRequest("batch", json.dumps({"batch": batch}).encode(), auth))
    load = LoadBatch(ClickHouseRowSink(client))
    for body in queue.bodies:
        load.add(body)
    _, rejected, _ = load.flush()
    assert rejected == []


def journey() -> list[dict[str, Any]]:
    page = {"url": "https://shop.example.com/pricing?utm_source=newsletter&utm_medium=email"}
    return [
        {
            "type": "page",
            "anonymousId": "phone",
            "messageId": "p1",
            "context": {"page": page},
            "timestamp": "2026-11-01T10:00:00Z",
        },
        {
            "type": "identify",
            "anonymousId": "phone",
            "userId": "u1",
            "messageId": "i1",
            "traits": {"email": "ada@example.com", "name": "Ada"},
            "timestamp": "2026-11-01T10:05:00Z",
        },
        {"type": "page", "anonymousId": "laptop", "messageId": "p2", "timestamp": "2026-11-02T09:00:00Z"},
        {
            "type": "track",
            "event": "Order Completed",
            "anonymousId": "laptop",
            "messageId": "o1",
            "properties": {"order_id": "ord-1", "total": 49, "products": [{"product_id": "p", "price": 49}]},
            "timestamp": "2026-11-02T09:10:00Z",
        },
        {
            "type": "alias",
            "previousId": "laptop",
            "userId": "u1",
            "messageId": "al1",
            "timestamp": "2026-11-02T09:11:00Z",
        },
        # someone else
        {
            "type": "identify",
            "anonymousId": "other-device",
            "userId": "u2",
            "messageId": "i2",
            "traits": {"email": "bob@example.com"},
            "timestamp": "2026-11-03T08:00:00Z",
        },
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "u2",
            "messageId": "o2",
            "properties": {"order_id": "ord-2", "total": 5},
            "timestamp": "2026-11-03T08:01:00Z",
        },
    ]


def count(client: Client, sql: str) -> int:
    return int(client.command(sql))


@pytest.fixture
def loaded(warehouse_url: str) -> Client:
    client = connect(warehouse_url)
    send(journey(), client)
    send(journey(), client)  # a redelivered batch: same messageIds, stored once
    resolve(ClientSql(client), SITE)
    return client


def test_phone_and_laptop_journey_is_one_person(loaded: Client) -> None:
    assert count(loaded, "SELECT count() FROM events FINAL") == 7
    persons = loaded.query(
        "SELECT e.visitor_id, if(m.person_id != '', m.person_id, concat('visitor:', e.visitor_id)) AS person "
        "FROM (SELECT * FROM events FINAL) AS e LEFT JOIN "
        "(SELECT id_value, person_id FROM identity_map FINAL WHERE id_type = 'visitor') AS m "
        "ON m.id_value = e.visitor_id"
    ).result_rows
    by_visitor = {visitor: person for visitor, person in persons}
    assert by_visitor["phone"] == by_visitor["laptop"] == by_visitor["u1"] == "user:u1"
    assert by_visitor["other-device"] == by_visitor["u2"] == "user:u2"
    order_person = loaded.command(
        "SELECT m.person_id FROM orders AS o FINAL INNER JOIN "
        "(SELECT id_value, person_id FROM identity_map FINAL WHERE id_type = 'visitor') AS m "
        "ON m.id_value = o.visitor_id WHERE o.order_id = 'ord-1'"
    )
    assert order_person == "user:u1"
    assert count(loaded, "SELECT count() FROM orders FINAL") == 2


def test_export_returns_everything_about_the_person(loaded: Client) -> None:
    sql = ClientSql(loaded)
    data = export(sql, find_subject(sql, SITE, email="ADA@example.com"))
    tables = data["tables"]
    assert {e["visitor_id"] for e in tables["events"]} == {"phone", "laptop", "u1"}
    assert [p["email"] for p in tables["people"]] == ["ada@example.com"]
    assert json.loads(tables["people"][0]["traits"])["name"] == "Ada"
    assert [o["order_id"] for o in tables["orders"]] == ["ord-1"]
    assert [i["order_id"] for i in tables["order_line_items"]] == ["ord-1"]
    assert "user:u1" in data["person_ids"]
    assert all("bob" not in json.dumps(rows) for rows in tables.values())
    json.dumps(data)  # JSON-serialisable as is


def test_delete_removes_the_person_everywhere_and_nobody_else(loaded: Client) -> None:
    sql = ClientSql(loaded)
    deleted = delete(sql, find_subject(sql, SITE, user_id="u1"))
    # Physical rows: the redelivered copies not merged away yet are deleted too.
    assert deleted["events"] == 2 * 5
    tables = {"events", "people", "orders", "order_line_items", "identity_links", "identity_map"}
    assert tables <= deleted.keys()
    for table in ("events", "people", "orders", "identity_links", "identity_map", "order_line_items"):
        leftover = loaded.query(f"SELECT * FROM {table}").result_rows  # no FINAL: physically gone
        text = json.dumps(leftover, default=str)
        for needle in ("phone", "laptop", "ada@example.com", "ord-1", "user:u1"):
            assert needle not in text, (table, needle)
    assert count(loaded, "SELECT count() FROM events FINAL WHERE user_id = 'u2'") == 2
    assert count(loaded, "SELECT count() FROM people FINAL WHERE user_id = 'u2'") == 1
    again = resolve(ClientSql(loaded), SITE)
    assert again.persons == 1


def test_config_items_naming_the_person_are_deleted(aws: dict[str, str]) -> None:
    from touchline.identity.gdpr import Subject

    ddb = boto3.client("dynamodb")
    ddb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": "X#1"}, "sk": {"S": "A"}, "user_id": {"S": "u1"}, "site_id": {"S": SITE}},
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "X#2"}, "sk": {"S": "A"}, "user_id": {"S": "u2"}})
    subject = Subject(SITE, identifiers={("user", "u1")})
    assert delete_config_items(ddb, TABLE, subject) == 1
    assert [i["pk"]["S"] for i in ddb.scan(TableName=TABLE)["Items"]] == ["X#2"]


def test_unknown_person_finds_nothing(warehouse_url: str) -> None:
    sql = ClientSql(connect(warehouse_url))
    subject = find_subject(sql, SITE, user_id="nobody")
    assert delete(sql, subject) == {}
    assert export(sql, subject)["tables"] == {}


def test_two_users_of_one_browser_export_and_delete_only_their_own(warehouse_url: str) -> None:
    """Issue 13: alice and bob both sign in on one browser (one anonymousId); bob buys. Alice's
    export names neither bob nor his email or order, and deleting alice leaves bob whole."""
    client = connect(warehouse_url)
    browser = "shared-browser-1"
    send(
        [
            {
                "type": "identify",
                "anonymousId": browser,
                "userId": "alice",
                "messageId": "ia",
                "traits": {"email": "alice@example.com"},
                "timestamp": "2026-11-01T10:00:00Z",
            },
            {
                "type": "identify",
                "anonymousId": browser,
                "userId": "bob",
                "messageId": "ib",
                "traits": {"email": "bob@example.com"},
                "timestamp": "2026-11-01T11:00:00Z",
            },
            {
                "type": "track",
                "event": "Order Completed",
                "anonymousId": browser,
                "userId": "bob",
                "messageId": "ob",
                "properties": {"order_id": "ord-bob", "total": 30},
                "timestamp": "2026-11-01T11:05:00Z",
            },
        ],
        client,
    )
    sql = ClientSql(client)
    alice = find_subject(sql, SITE, user_id="alice")
    dumped = json.dumps(export(sql, alice))
    assert "bob" not in dumped and "ord-bob" not in dumped
    assert alice.values("user") == {"alice"} and alice.emails == {"alice@example.com"}
    delete(sql, alice)
    bob = find_subject(sql, SITE, user_id="bob")
    assert "ord-bob" in json.dumps(export(sql, bob))
    assert bob.emails == {"bob@example.com"}
