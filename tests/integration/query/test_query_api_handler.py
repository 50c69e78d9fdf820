"""QueryFunction on API Gateway v2 events: keys, isolation, rate limits, freshness, the cache.

The real handler (functions/query/app.py) with the config table in moto and the known site of
tests/query_world.py in the embedded ClickHouse.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from query_world import DOMAIN

from helpers import TABLE, LambdaContextStub, load_handler_module
from touchline.auth.api_keys import ApiKeyStore
from touchline.auth.rate_limit import RateLimiter
from touchline.config.sites import SiteStore
from touchline.config.watermarks import DynamoWatermarks, Watermark
from touchline.ingest.rows import EventRow
from touchline.load import service as load_service
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.query import service
from touchline.query.cache import MemoryCache
from touchline.query.sql import ClientWarehouse
from touchline.warehouse.sql import ClientSql
from touchline.warehouse.versions import bump

QUERY = {"site_id": DOMAIN, "metrics": ["visitors", "pageviews"], "date_range": "all"}


@pytest.fixture(scope="module")
def handler_module() -> ModuleType:
    return load_handler_module("query")


@pytest.fixture
def stack(
    aws: dict[str, str], loaded: Any, handler_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", loaded.url)
    monkeypatch.setenv("TOUCHLINE_SITE_CACHE_SECONDS", "0")
    monkeypatch.setenv("TOUCHLINE_KEY_CACHE_SECONDS", "0")
    load_service.reset()
    service.api.cache_clear()
    ddb = boto3.client("dynamodb")
    sites = SiteStore(ddb, TABLE)
    # The loaded world's site id, registered under its domain; a second site with no data.
    ddb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"DOMAIN#{DOMAIN}"}, "sk": {"S": "SITE"}, "site_id": {"S": loaded.site.site_id}},
    )
    ddb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"SITE#{loaded.site.site_id}"},
            "sk": {"S": "SITE"},
            "site_id": {"S": loaded.site.site_id},
            "domain": {"S": DOMAIN},
        },
    )
    other = sites.add("other.example.com")
    keys = ApiKeyStore(ddb, TABLE)
    key, record = keys.create([loaded.site.site_id], ["stats:read"], name="script", rate_limit=1000)
    other_key, _ = keys.create([other.site_id], ["stats:read"])
    yield {
        "app": handler_module,
        "key": key,
        "record": record,
        "other_key": other_key,
        "other": other,
        "ddb": ddb,
        "loaded": loaded,
    }
    service.api.cache_clear()
    load_service.reset()


def http_event(body: Any, headers: dict[str, str]) -> dict[str, Any]:
    raw = body if isinstance(body, str) else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": "POST /api/v2/query",
        "rawPath": "/api/v2/query",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/api/v2/query",
                "sourceIp": "203.0.113.9",
                "protocol": "HTTP/1.1",
            },
            "requestId": "r1",
            "routeKey": "POST /api/v2/query",
            "stage": "$default",
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def call(app: ModuleType, body: Any, key: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    response = app.handler(http_event(body, headers), LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


def test_answers_with_a_key(stack: dict[str, Any]) -> None:
    status, body, headers = call(stack["app"], QUERY, stack["key"])
    assert status == 200, body
    direct = stack["loaded"].run(QUERY)
    assert body["results"] == direct["results"]
    assert headers["X-RateLimit-Limit"] == "1000" and headers["X-RateLimit-Remaining"] == "999"
    assert set(body["meta"]["freshness"]) == {"events_stored_at", "aggregated_at"}


def test_the_site_id_may_be_the_touchline_id(stack: dict[str, Any]) -> None:
    status, body, _ = call(stack["app"], {**QUERY, "site_id": stack["loaded"].site.site_id}, stack["key"])
    assert status == 200 and body["results"][0]["metrics"][0] > 0


def test_missing_and_invalid_keys(stack: dict[str, Any]) -> None:
    status, body, _ = call(stack["app"], QUERY, None)
    assert status == 401 and "Missing API key" in body["error"]
    for bad in ("tlk_nope", stack["key"][:-2] + "xx", "Basic abc"):
        status, body, _ = call(stack["app"], QUERY, bad)
        assert (status, body) == (401, {"error": "Invalid API key or site ID."})


def test_a_key_for_another_site_sees_what_an_unknown_site_sees(stack: dict[str, Any]) -> None:
    foreign = call(stack["app"], QUERY, stack["other_key"])
    unknown = call(stack["app"], {**QUERY, "site_id": "nowhere.example.com"}, stack["other_key"])
    assert foreign[0] == unknown[0] == 401
    assert foreign[1] == unknown[1] == {"error": "Invalid API key or site ID."}
    # and the key's own site answers (no data there)
    own = call(stack["app"], {**QUERY, "site_id": "other.example.com"}, stack["other_key"])
    assert own[0] == 200 and own[1]["results"][0]["metrics"] == [0, 0]


def test_revoked_and_expired_keys_stop_working(stack: dict[str, Any]) -> None:
    ApiKeyStore(stack["ddb"], TABLE).revoke(stack["record"].key_id)
    assert call(stack["app"], QUERY, stack["key"])[0] == 401
    expired_store = ApiKeyStore(stack["ddb"], TABLE, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    old, _ = expired_store.create([stack["loaded"].site.site_id], ["stats:read"], expires_days=1)
    assert call(stack["app"], QUERY, old)[0] == 401


def test_bad_queries_are_plausible_style_400s(stack: dict[str, Any]) -> None:
    cases = [
        ("{not json", "not valid JSON"),
        ({**QUERY, "metrics": ["nope"]}, "Unknown metric '\"nope\"'."),
        ({**QUERY, "date_range": "fortnight"}, 'Invalid date_range "fortnight".'),
        ({**QUERY, "dimensions": ["visit:nope"]}, "Invalid dimensions"),
        ({**QUERY, "filters": [["is", "event:goal", ["Nope"]]]}, "The goal `Nope` is not configured"),
        ({**QUERY, "metrics": ["conversion_rate"]}, "can only be queried with event:goal"),
        ({**QUERY, "include": {"time_labels": True}}, "requires a time dimension"),
        ({**QUERY, "order_by": [["visits", "desc"]]}, "Entry is not a queried metric or dimension"),
        ({**QUERY, "filters": [["matches", "event:page", ["(unclosed"]]]}, "not a valid regular expression"),
        ({**QUERY, "extra": 1}, "#/extra: Schema does not allow additional properties."),
    ]
    for body, message in cases:
        status, answer, _ = call(stack["app"], body, stack["key"])
        assert status == 400, (body, answer)
        assert message in answer["error"], (message, answer)


def test_warehouse_trouble_is_a_retryable_503_in_plausibles_shape(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(self: Any, sql: str, parameters: dict[str, Any]) -> Any:
        raise ConnectionError("ClickHouse is unreachable")

    monkeypatch.setattr(ClientWarehouse, "select", unreachable)
    status, body, _ = call(stack["app"], {**QUERY, "metrics": ["visits"]}, stack["key"])
    assert status == 503 and isinstance(body["error"], str) and "retry" in body["error"], body
    # The shared adapter counts it where RequestsFailedAlarm looks (service "query").
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failed = [m for m in metrics if "RequestsFailed" in m]
    assert failed and failed[0]["service"] == "query" and failed[0]["reason"] == "ConnectionError"


def test_rate_limit_answers_429_with_headers(stack: dict[str, Any]) -> None:
    key, _ = ApiKeyStore(stack["ddb"], TABLE).create(
        [stack["loaded"].site.site_id], ["stats:read"], rate_limit=5
    )
    for _ in range(5):
        assert call(stack["app"], QUERY, key)[0] == 200
    status, body, headers = call(stack["app"], QUERY, key)
    assert status == 429 and "5 per hour" in body["error"]
    assert headers["X-RateLimit-Remaining"] == "0" and int(headers["Retry-After"]) >= 1
    assert int(headers["X-RateLimit-Reset"]) > datetime.now(UTC).timestamp()
    # the other key has its own window
    assert call(stack["app"], {**QUERY, "site_id": "other.example.com"}, stack["other_key"])[0] == 200


def test_a_batch_answers_each_query_as_alone_with_one_version_read(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A view's round in one request: each query answered as its own request would be, in order,
    a bad one as its own 400 (the others still answered), a site the key may not read as its
    401; one data-version read per site for the whole batch."""
    app, key = stack["app"], stack["key"]
    channels = {**QUERY, "metrics": ["visitors"], "dimensions": ["visit:channel"]}
    queries = [QUERY, {**QUERY, "metrics": ["nope"]}, channels, {**QUERY, "site_id": "other.example.com"}]
    alone = [call(app, q, key)[:2] for q in queries]
    engine = service.api()._engine
    reads: list[str] = []
    read = engine.data_version
    monkeypatch.setattr(engine, "data_version", lambda site: reads.append(site) or read(site))
    status, body, headers = call(app, {"queries": queries}, key)
    assert status == 200, body
    assert [(r["status"], r["body"]) for r in body["results"]] == alone
    assert [s for s, _ in alone] == [200, 400, 200, 401]
    assert reads == [stack["loaded"].site.site_id]
    # four queries: four of the key's requests (1000 an hour; four taken alone before)
    assert headers["X-RateLimit-Remaining"] == str(1000 - 4 - 4)


def test_a_batch_runs_its_queries_at_once(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each statement of the two queries waits until the other's is running too: answered only
    if the batch runs them in parallel (each on a client of its own)."""
    both = threading.Barrier(2, timeout=20)
    select = ClientWarehouse.select

    def together(self: ClientWarehouse, sql: str, parameters: dict[str, Any]) -> Any:
        if "data_versions" not in sql:  # the batch's one version read runs alone
            both.wait()
        return select(self, sql, parameters)

    monkeypatch.setattr(ClientWarehouse, "select", together)
    days = {**QUERY, "date_range": ["2024-09-01", "2024-09-30"]}
    queries = [{**days, "metrics": ["visitors"]}, {**days, "metrics": ["pageviews"]}]
    status, body, _ = call(stack["app"], {"queries": queries}, stack["key"])
    assert status == 200 and [r["status"] for r in body["results"]] == [200, 200], body


def test_bad_batches_are_400s_and_a_batch_costs_its_queries_of_the_rate_limit(stack: dict[str, Any]) -> None:
    app, key = stack["app"], stack["key"]
    for bad in (
        {"queries": []},
        {"queries": QUERY},
        {"queries": [QUERY] * 26},
        {"queries": [QUERY], "site_id": DOMAIN},
    ):
        status, answer, _ = call(app, bad, key)
        assert status == 400 and "1 to 25" in answer["error"], (bad, answer)
    status, answer, _ = call(app, {"queries": [{"queries": [QUERY]}, "x"]}, key)
    assert status == 200 and [r["status"] for r in answer["results"]] == [400, 400]
    limited, _ = ApiKeyStore(stack["ddb"], TABLE).create(
        [stack["loaded"].site.site_id], ["stats:read"], rate_limit=5
    )
    status, _, headers = call(app, {"queries": [QUERY] * 3}, limited)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "2"
    status, answer, _ = call(app, {"queries": [QUERY] * 3}, limited)
    assert status == 429 and "5 per hour" in answer["error"]
    assert call(app, {"queries": [QUERY] * 2}, limited)[0] == 200


@pytest.fixture
def serialised_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's DynamoDB applies an UpdateItem without a lock (two threads can both pass a
    condition); DynamoDB serialises the writes to an item. Give moto that guarantee, so a race
    test proves the limiter's logic rather than the fake's thread-safety."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item
    lock = threading.Lock()

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


def race(take: Callable[[], bool], callers: int) -> list[bool]:
    """`callers` threads released together by a barrier, each calling `take` once."""
    start = threading.Barrier(callers)
    results: list[bool] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        allowed = take()
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=run) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.usefixtures("serialised_items")
def test_rate_limit_is_atomic_across_concurrent_callers(stack: dict[str, Any]) -> None:
    """Sixteen callers race for a limit of 10: exactly 10 get through, because each request is
    one conditional write and nothing is read first."""
    limiter = RateLimiter(stack["ddb"], TABLE)
    calls: list[str] = []
    stack["ddb"].meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    results = race(lambda: limiter.hit("race", 10).allowed, 16)
    assert results.count(True) == 10 and results.count(False) == 6
    assert calls == ["UpdateItem"] * 16
    assert limiter.last_used("race") is not None


@pytest.mark.usefixtures("serialised_items")
def test_the_race_harness_catches_a_read_then_write_limiter(stack: dict[str, Any]) -> None:
    """The same race over a limiter that reads the count and then writes it: every caller reads
    before any writes (a second barrier forces the interleaving), so all of them get through.
    The harness sees a non-atomic limiter; the real one passes it above."""
    ddb = stack["ddb"]
    key = {"pk": {"S": "RATE#naive"}, "sk": {"S": "0"}}
    read_all = threading.Barrier(16)

    def naive_hit() -> bool:
        item = ddb.get_item(TableName=TABLE, Key=key).get("Item", {})
        used = int(item.get("requests", {"N": "0"})["N"])
        read_all.wait()
        if used >= 10:
            return False
        ddb.put_item(TableName=TABLE, Item={**key, "requests": {"N": str(used + 1)}})
        return True

    assert race(naive_hit, 16).count(True) == 16


def test_cache_never_serves_a_result_older_than_the_data(stack: dict[str, Any]) -> None:
    app, key, loaded = stack["app"], stack["key"], stack["loaded"]
    body = {"site_id": DOMAIN, "metrics": ["visitors", "events"], "date_range": "all"}
    first = call(app, body, key)[1]
    engine_cache = service.api()._engine._cache
    assert isinstance(engine_cache, MemoryCache)
    hits_before = engine_cache.hits
    assert call(app, body, key)[1] == first
    assert engine_cache.hits == hits_before + 1
    # A new event lands: the next identical query must include it.
    at = datetime(2024, 9, 11, 9, 0, tzinfo=UTC)
    row = EventRow(
        event_id=uuid.uuid4(),
        site_id=loaded.site.site_id,
        timestamp=at,
        received_at=at,
        event_type="pageview",
        name="pageview",
        visitor_id=f"late-{uuid.uuid4().hex}",
        pathname="/",
    )
    ClickHouseRowSink(loaded.client).insert_rows("events", [row.to_json()], "events")
    try:
        after = call(app, body, key)[1]
        assert after["results"][0]["metrics"] == [
            first["results"][0]["metrics"][0] + 1,
            first["results"][0]["metrics"][1] + 1,
        ]
    finally:
        loaded.client.command(
            "ALTER TABLE events DELETE WHERE visitor_id LIKE 'late-%' SETTINGS mutations_sync = 2"
        )
        bump(ClientSql(loaded.client), loaded.site.site_id, ["events"])  # a mutation moves no version


def test_freshness_states_the_last_aggregation(stack: dict[str, Any]) -> None:
    DynamoWatermarks(stack["ddb"], TABLE).put(
        stack["loaded"].site.site_id, "aggregate", Watermark(1_700_000_000_000, 1)
    )
    body = {"site_id": DOMAIN, "metrics": ["visits"], "date_range": "7d"}
    answer = call(stack["app"], body, stack["key"])[1]
    assert answer["meta"]["freshness"]["aggregated_at"] == "2023-11-14T22:13:20+00:00"


# ---------------------------------------------------------------------- realtime


def get_event(path: str, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    from urllib.parse import urlencode

    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query),
        "queryStringParameters": query or None,
        "headers": headers,
        "requestContext": {
            "http": {"method": "GET", "path": path, "sourceIp": "203.0.113.9", "protocol": "HTTP/1.1"},
            "requestId": "r2",
            "routeKey": f"GET {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def realtime(
    app: ModuleType, site: str | None, key: str | None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    query = {"site_id": site} if site else {}
    response = app.handler(get_event("/api/v2/realtime", query, headers), LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


def test_realtime_reads_the_last_minutes_of_raw_events(stack: dict[str, Any]) -> None:
    from datetime import timedelta

    other, loaded = stack["other"], stack["loaded"]
    now = datetime.now(UTC)

    def hit(visitor: str, ago: timedelta, path: str, **extra: Any) -> str:
        at = now - ago
        fields: dict[str, Any] = {"event_type": "pageview", "name": "pageview", **extra}
        return EventRow(
            event_id=uuid.uuid4(),
            site_id=other.site_id,
            timestamp=at,
            received_at=at,
            visitor_id=visitor,
            pathname=path,
            **fields,
        ).to_json()

    duplicate = hit("b", timedelta(minutes=2), "/", country="US")
    rows = [
        hit("a", timedelta(minutes=1), "/pricing", referrer_source="Google", country="DE"),
        hit("a", timedelta(seconds=5), "/pricing", event_type="engagement", name="engagement", country="DE"),
        duplicate,
        duplicate,  # a redelivery not merged yet: one pageview
        hit("b", timedelta(seconds=30), "/docs", country="US"),
        hit("c", timedelta(minutes=10), "/", referrer_source="Newsletter", country="FR"),
        hit("d", timedelta(minutes=45), "/old", country="GB"),  # before the chart
        hit("e", timedelta(minutes=-10), "/future", country="GB"),  # a clock in the future
    ]
    ClickHouseRowSink(loaded.client).insert_rows("events", rows, "events")
    status, body, headers = realtime(stack["app"], "other.example.com", stack["other_key"])
    answered = datetime.now(UTC)
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    assert body["visitors"] == 2
    assert body["pages"] == [{"page": "/docs", "visitors": 1}, {"page": "/pricing", "visitors": 1}]
    assert body["sources"] == [
        {"source": "Direct / None", "visitors": 1},
        {"source": "Google", "visitors": 1},
    ]
    assert body["countries"] == [{"country": "DE", "visitors": 1}, {"country": "US", "visitors": 1}]
    minutes = body["minutes"]
    # The handler takes its own "now", which may be in the minute after the test's.
    last_minutes = {t.strftime("%Y-%m-%dT%H:%M:00Z") for t in (now, answered)}
    assert len(minutes) == 30 and minutes[-1]["minute"] in last_minutes
    assert sum(m["pageviews"] for m in minutes) == 4  # a: 1, b: 2 (the duplicate once), c: 1
    assert max(m["visitors"] for m in minutes) <= 2
    assert body["newest_event_at"] is not None and body["newest_stored_at"] is not None


def test_realtime_is_authorised_like_a_query(stack: dict[str, Any]) -> None:
    app = stack["app"]
    assert realtime(app, "other.example.com", None)[0] == 401
    assert realtime(app, "other.example.com", "tlk_nope")[1] == {"error": "Invalid API key or site ID."}
    # The loaded site's key on the other site: what an unknown site gets.
    assert realtime(app, "other.example.com", stack["key"])[:2] == (
        401,
        {"error": "Invalid API key or site ID."},
    )
    assert realtime(app, None, stack["key"])[0] == 400
    status, body, _ = realtime(app, DOMAIN, stack["key"])
    assert status == 200 and body["visitors"] == 0 and len(body["minutes"]) == 30


# ---------------------------------------------------------------------- annotations


def test_annotations_come_with_a_query_that_asks_for_them(stack: dict[str, Any]) -> None:
    from datetime import date

    from touchline.accounts.annotations import Annotation, AnnotationStore

    site_id = stack["loaded"].site.site_id
    notes = AnnotationStore(stack["ddb"], TABLE)
    inside = Annotation(f"ann_{uuid.uuid4().hex[:16]}", site_id, date(2024, 9, 9), "Newsletter", ("email",))
    outside = Annotation(f"ann_{uuid.uuid4().hex[:16]}", site_id, date(2024, 1, 2), "Old", ())
    for note in (inside, outside):
        notes.put(note)
    body = {
        "site_id": DOMAIN,
        "metrics": ["visitors"],
        "date_range": ["2024-09-01", "2024-09-11"],
        "dimensions": ["time:day"],
    }
    try:
        plain = call(stack["app"], body, stack["key"])[1]
        assert "annotations" not in plain["meta"]
        status, asked, _ = call(stack["app"], {**body, "include": {"annotations": True}}, stack["key"])
        assert status == 200, asked
        assert [(a["id"], a["date"], a["content"], a["tags"]) for a in asked["meta"]["annotations"]] == [
            (inside.annotation_id, "2024-09-09", "Newsletter", ["email"])
        ]
        assert asked["results"] == plain["results"]
        # The engine's cached answer was not changed by adding the notes to a copy.
        assert "annotations" not in call(stack["app"], body, stack["key"])[1]["meta"]
        # A note added now shows at once (not behind the engine's cache).
        notes.put(Annotation(f"ann_{uuid.uuid4().hex[:16]}", site_id, date(2024, 9, 1), "Launch", ()))
        again = call(stack["app"], {**body, "include": {"annotations": True}}, stack["key"])[1]
        assert [a["content"] for a in again["meta"]["annotations"]] == ["Launch", "Newsletter"]
        bad = call(stack["app"], {**body, "include": {"annotations": "yes"}}, stack["key"])
        assert bad[0] == 400
    finally:
        for note in notes.all(site_id):
            notes.delete(site_id, note.annotation_id)
