"""The real Segment and Customer.io SDKs against `touchline dev`, pointed at it by their `host`.

customerio-cdp-analytics (gzip on and off) and segment-analytics-python from PyPI and
@segment/analytics-node from npm send every call type; each lands in ClickHouse with the right
fields; a wrong write key is refused; a redelivered batch is stored once; a journey that browses
on a phone, identifies, buys on a laptop and is aliased resolves to one person; and the person
can be exported and deleted through the CLI.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tag_tools import TOUCHLINE, Stack, cli, running_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TOUCHLINE.exists(), reason="no touchline script next to python"),
]

DOMAIN = "sdk.example.com"
NODE_DIR = Path(__file__).resolve().parent / "sdk_node"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with running_stack(tmp_path_factory.mktemp("sdks"), DOMAIN) as running:
        created = cli("keys", "create", running.site_id, data_dir=running.data_dir)
        assert created.returncode == 0, created.stderr
        yield running, created.stdout.strip()


def host(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.port}"


def python_calls(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    user, anon = f"{prefix}-user", f"{prefix}-anon"
    return [
        ("identify", {"user_id": user, "anonymous_id": anon, "traits": {"email": f"{prefix}@example.com"}}),
        ("track", {"user_id": user, "event": "Signed Up", "properties": {"plan": "pro", "seats": 3}}),
        (
            "page",
            {
                "anonymous_id": anon,
                "name": "Pricing",
                "properties": {"url": f"https://{DOMAIN}/pricing?utm_source=news&utm_medium=email"},
            },
        ),
        ("screen", {"user_id": user, "name": "Home"}),
        ("group", {"user_id": user, "group_id": "acme", "traits": {"employees": 5}}),
        ("alias", {"previous_id": f"{prefix}-anon2", "user_id": user}),
        (
            "track",
            {
                "user_id": user,
                "event": "Video Content Started",
                "properties": {
                    "session_id": f"{prefix}-play",
                    "asset_id": "ep-1",
                    "position": 0,
                    "total_length": 60,
                },
            },
        ),
        (
            "track",
            {
                "user_id": user,
                "event": "Product Added",
                "properties": {
                    "cart_id": f"{prefix}-cart",
                    "product_id": f"{prefix}-game",
                    "price": 9.5,
                    "quantity": 2,
                    "currency": "EUR",
                },
            },
        ),
        (
            "track",
            {
                "user_id": user,
                "event": "Product Reviewed",
                "properties": {"product_id": f"{prefix}-game", "review_id": f"{prefix}-rv", "rating": "4"},
            },
        ),
        (
            "track",
            {
                "user_id": user,
                "event": "Order Completed",
                "properties": {"order_id": f"{prefix}-order", "total": 19.99, "currency": "EUR"},
            },
        ),
    ]


def node_calls(prefix: str) -> list[dict[str, Any]]:
    renamed = {
        "user_id": "userId",
        "anonymous_id": "anonymousId",
        "group_id": "groupId",
        "previous_id": "previousId",
    }
    return [
        {"method": method, "args": {renamed.get(k, k): v for k, v in kwargs.items()}}
        for method, kwargs in python_calls(prefix)
    ]


def send_python(
    client_class: Any, key: str, url: str, calls: list[tuple[str, dict[str, Any]]], **options: Any
) -> list[Any]:
    errors: list[Any] = []
    client = client_class(
        write_key=key, host=url, on_error=lambda error, batch: errors.append(error), max_retries=1, **options
    )
    for method, kwargs in calls:
        getattr(client, method)(**kwargs)
    client.flush()
    client.join()
    return errors


def ensure_node_sdk() -> None:
    if (NODE_DIR / "node_modules" / "@segment" / "analytics-node").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install @segment/analytics-node")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def send_node(key: str, url: str, calls: list[dict[str, Any]]) -> list[Any]:
    ensure_node_sdk()
    node = shutil.which("node")
    assert node, "npm without node"
    done = subprocess.run(
        [node, "send.js"],
        cwd=NODE_DIR,
        input=json.dumps({"host": url, "writeKey": key, "calls": calls}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    errors: list[Any] = json.loads(done.stdout)["errors"]
    return errors


def events_of(stack: Stack, prefix: str, expected: int) -> dict[str, dict[str, Any]]:
    rows = stack.wait_for(
        "SELECT event_type, name, visitor_id, user_id, ingest_source, pathname, utm_source, props,"
        " toString(revenue) AS revenue, currency FROM events FINAL"
        f" WHERE visitor_id LIKE '{prefix}-%' OR user_id LIKE '{prefix}-%'",
        lambda found: len(found) >= expected,
    )
    assert len(rows) == expected, rows
    return {f"{r['event_type']}/{r['name']}": r for r in rows}


def assert_every_call_landed(stack: Stack, prefix: str) -> None:
    found = events_of(stack, prefix, 10)
    user, anon = f"{prefix}-user", f"{prefix}-anon"
    assert {r["ingest_source"] for r in found.values()} == {"api"}
    assert (found["identify/identify"]["user_id"], found["identify/identify"]["visitor_id"]) == (user, anon)
    signed_up = found["goal/Signed Up"]
    assert signed_up["user_id"] == user and signed_up["props"] == {"plan": "pro", "seats": "3"}
    page = found["pageview/pageview"]
    assert (page["visitor_id"], page["pathname"], page["utm_source"]) == (anon, "/pricing", "news")
    assert page["props"]["page_name"] == "Pricing"
    assert found["screen/Home"]["user_id"] == user
    assert found["group/group"]["props"] == {"employees": "5", "group_id": "acme"}
    assert found["alias/alias"]["props"] == {"previous_id": f"{prefix}-anon2"}
    purchase = found["purchase/Order Completed"]
    assert (purchase["revenue"], purchase["currency"]) == ("19.99", "EUR")
    [order] = stack.wait_for(
        "SELECT source, toString(amount) AS amount, currency FROM orders FINAL"
        f" WHERE order_id = '{prefix}-order'",
        lambda rows: len(rows) == 1,
    )
    assert order == {"source": "api", "amount": "19.99", "currency": "EUR"}
    [person] = stack.wait_for(
        f"SELECT person_id, email FROM people FINAL WHERE user_id = '{user}'", lambda rows: len(rows) == 1
    )
    assert person == {"person_id": f"user:{user}", "email": f"{prefix}@example.com"}
    [relationship] = stack.wait_for(
        "SELECT object_type, object_id, member_kind FROM relationships FINAL"
        f" WHERE member_id = '{user}' AND deleted = 0",
        lambda rows: len(rows) == 1,
    )
    assert relationship == {"object_type": "1", "object_id": "acme", "member_kind": "user"}
    [play] = stack.wait_for(
        "SELECT category, action, content_asset_id, total_length FROM video_events FINAL"
        f" WHERE video_session_id = '{prefix}-play'",
        lambda rows: len(rows) == 1,
    )
    assert play == {
        "category": "content",
        "action": "started",
        "content_asset_id": "ep-1",
        "total_length": 60,
    }
    [account] = stack.sql("SELECT traits FROM objects FINAL WHERE object_id = 'acme'")
    assert account["traits"] == {"employees": "5"}
    assert_cart_and_review(stack, prefix)


_STATS_KEYS: dict[str, str] = {}


def query_api(stack: Stack, body: dict[str, Any]) -> list[dict[str, Any]]:
    """`POST /api/v2/query` with a stats key of the stack's site (made once)."""
    if stack.site_id not in _STATS_KEYS:
        created = cli("api-keys", "create", stack.site_id, "--scope", "stats:read", data_dir=stack.data_dir)
        assert created.returncode == 0, created.stderr
        _STATS_KEYS[stack.site_id] = created.stdout.strip().splitlines()[-1]
    headers = {"authorization": f"Bearer {_STATS_KEYS[stack.site_id]}", "content-type": "application/json"}
    status, answer = post(
        host(stack), "/api/v2/query", json.dumps({"site_id": stack.site_id, **body}).encode(), headers
    )
    assert status == 200, answer
    results: list[dict[str, Any]] = answer["results"]
    return results


def assert_cart_and_review(stack: Stack, prefix: str) -> None:
    """The cart call and the review reach shopping_carts and product_reviews, and the query API."""
    [cart] = stack.wait_for(
        "SELECT toFloat64(value) AS value, toUInt8(items) AS items, currency FROM shopping_carts"
        f" WHERE site_id = '{stack.site_id}' AND cart_id = '{prefix}-cart'",
        lambda rows: len(rows) == 1,
    )
    assert cart == {"value": 19.0, "items": 2, "currency": "EUR"}
    carts = query_api(
        stack,
        {
            "metrics": ["carts", "completed_carts", "cart_value"],
            "date_range": "day",
            "dimensions": ["cart:status", "cart:completed_by"],
            "filters": [["is", "cart:id", [f"{prefix}-cart"]]],
        },
    )
    # The same person's Order Completed (no cart_id) right after completes the cart (docs/carts.md).
    assert [
        (r["dimensions"], [m["amount"] if isinstance(m, dict) else m for m in r["metrics"]]) for r in carts
    ] == [(["converted", "person"], [1, 1, "19.00"])]
    reviews = query_api(
        stack,
        {
            "metrics": ["reviews", "average_rating"],
            "date_range": "day",
            "filters": [["is", "product:id", [f"{prefix}-game"]]],
        },
    )
    assert reviews == [{"metrics": [1, 4.0], "dimensions": []}]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_customerio_cdp_analytics(stack: tuple[Stack, str], compress: bool) -> None:
    from customerio.analytics import Client

    running, key = stack
    prefix = f"cio-{'gz' if compress else 'plain'}"
    assert send_python(Client, key, host(running), python_calls(prefix), gzip=compress) == []
    assert_every_call_landed(running, prefix)


def test_segment_analytics_python(stack: tuple[Stack, str]) -> None:
    from segment.analytics import Client

    running, key = stack
    assert send_python(Client, key, host(running), python_calls("seg"), gzip=True) == []
    assert_every_call_landed(running, "seg")


def test_segment_analytics_node(stack: tuple[Stack, str]) -> None:
    running, key = stack
    assert send_node(key, host(running), node_calls("node")) == []
    assert_every_call_landed(running, "node")


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


def test_wrong_write_key_is_rejected(stack: tuple[Stack, str]) -> None:
    from customerio.analytics import Client

    running, _ = stack
    errors = send_python(Client, "tlwk_not-a-key", host(running), python_calls("wrongkey"))
    assert errors and all(getattr(e, "status", None) == 401 for e in errors), errors
    assert send_node("tlwk_not-a-key", host(running), node_calls("wrongnode"))
    auth = "Basic " + base64.b64encode(b"tlwk_nope:").decode()
    status, body = post(host(running), "/v1/track", b'{"event":"x","userId":"u"}', {"authorization": auth})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    rows = running.sql(
        "SELECT count() AS n FROM events WHERE user_id LIKE 'wrong%' OR visitor_id LIKE 'wrong%'"
    )
    assert rows == [{"n": 0}]


def test_redelivered_batch_is_stored_once(stack: tuple[Stack, str]) -> None:
    running, key = stack
    # A device clock 12 days behind, and the same body (same sentAt) posted again, as an SDK's
    # disk queue retries it: each copy's offset receivedAt - sentAt has grown by its delay. The
    # sentAt puts a minute's half-way point of the offset one second after the first post, and
    # the later copies are posted after it: their offsets round to the next minute, the first
    # copy's (received within that second, as it is unless the machine stalls) to this one, so
    # the skew correction gives them two times and the loader must settle them on one.
    start = datetime.now(UTC)
    boundary = start + timedelta(seconds=1)
    sent = start - timedelta(days=12, minutes=2, seconds=29)
    batch = {
        "batch": [
            {
                "type": "track",
                "event": "Retried",
                "anonymousId": f"redo-{i}",
                "messageId": f"redo-msg-{i}",
                "timestamp": (sent - timedelta(seconds=1)).isoformat(),
            }
            for i in range(20)
        ],
        "sentAt": sent.isoformat(),
    }
    headers = {
        "authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "content-encoding": "gzip",
    }
    body = gzip.compress(json.dumps(batch).encode())
    for copy in range(3):
        if copy:
            while datetime.now(UTC) < boundary + timedelta(milliseconds=100):
                time.sleep(0.05)
        status, answer = post(host(running), "/v1/batch", body, headers)
        assert (status, answer["accepted"]) == (200, 20)
    # The loader may see the copies in one batch or in several, so the raw row count is 20 to
    # 60; what must hold once every copy was delivered is one row per message.
    running.wait_drained()
    raw = running.sql("SELECT count() AS n FROM events WHERE name = 'Retried'")[0]["n"]
    assert 20 <= raw <= 60
    assert running.sql("SELECT count() AS n FROM events FINAL WHERE name = 'Retried'") == [{"n": 20}]
    assert running.sql(
        "SELECT count() AS n FROM corrected_event_times FINAL WHERE event_id IN"
        " (SELECT event_id FROM events WHERE name = 'Retried')"
    ) == [{"n": 20}]


def test_phone_then_laptop_journey_is_one_person_and_can_be_erased(stack: tuple[Stack, str]) -> None:
    from segment.analytics import Client

    running, key = stack
    page = {"url": f"https://{DOMAIN}/?utm_source=newsletter&utm_medium=email"}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("page", {"anonymous_id": "j-phone", "name": "Home", "properties": page}),
        (
            "page",
            {
                "anonymous_id": "j-phone",
                "name": "Pricing",
                "properties": {"url": f"https://{DOMAIN}/pricing"},
            },
        ),
        ("identify", {"user_id": "j-user", "anonymous_id": "j-phone", "traits": {"email": "j@example.com"}}),
        (
            "page",
            {
                "anonymous_id": "j-laptop",
                "name": "Checkout",
                "properties": {"url": f"https://{DOMAIN}/checkout"},
            },
        ),
        (
            "track",
            {
                "anonymous_id": "j-laptop",
                "event": "Order Completed",
                "properties": {"order_id": "j-order", "total": 99},
            },
        ),
        ("alias", {"previous_id": "j-laptop", "user_id": "j-user"}),
    ]
    assert send_python(Client, key, host(running), calls) == []
    running.wait_for(
        "SELECT count() AS n FROM identity_links FINAL WHERE to_id = 'j-user'",
        lambda rows: rows == [{"n": 3}],
    )
    resolved = cli("identity", "resolve", "--site", running.site_id, data_dir=running.data_dir)
    assert resolved.returncode == 0, resolved.stderr
    persons = running.sql(
        "SELECT DISTINCT if(m.person_id != '', m.person_id, concat('visitor:', e.visitor_id)) AS person"
        " FROM (SELECT visitor_id FROM events FINAL WHERE visitor_id LIKE 'j-%') AS e"
        " LEFT JOIN (SELECT id_value, person_id FROM identity_map FINAL WHERE id_type = 'visitor') AS m"
        " ON m.id_value = e.visitor_id"
    )
    assert persons == [{"person": "user:j-user"}]
    order_person = running.sql(
        "SELECT m.person_id AS person FROM orders AS o FINAL INNER JOIN"
        " (SELECT id_value, person_id FROM identity_map FINAL WHERE id_type = 'visitor') AS m"
        " ON m.id_value = o.visitor_id WHERE o.order_id = 'j-order'"
    )
    assert order_person == [{"person": "user:j-user"}]

    exported = cli(
        "people", "export", "--site", running.site_id, "--email", "J@example.com", data_dir=running.data_dir
    )
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert {e["visitor_id"] for e in data["tables"]["events"]} == {"j-phone", "j-laptop", "j-user"}
    assert [o["order_id"] for o in data["tables"]["orders"]] == ["j-order"]

    deleted = cli(
        "people", "delete", "--site", running.site_id, "--user-id", "j-user", data_dir=running.data_dir
    )
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["deleted"]["events"] >= 6
    left = running.sql(
        "SELECT (SELECT count() FROM events WHERE visitor_id LIKE 'j-%' OR user_id LIKE 'j-%') +"
        " (SELECT count() FROM identity_links WHERE from_id LIKE 'j-%' OR to_id LIKE 'j-%') +"
        " (SELECT count() FROM people WHERE user_id = 'j-user') +"
        " (SELECT count() FROM orders WHERE order_id = 'j-order') AS n"
    )
    assert left == [{"n": 0}]
    assert running.sql("SELECT count() AS n FROM events FINAL WHERE user_id = 'seg-user'") != [{"n": 0}]


def test_devices_from_both_sdks_are_queryable(stack: tuple[Stack, str]) -> None:
    """Customer.io's device semantic events (device in properties, as its docs send it) and a
    mobile-style `context.device` on Segment calls fill `devices`; the query API counts them."""
    from customerio.analytics import Client as CustomerIo
    from segment.analytics import Client as Segment

    running, key = stack
    cio: list[tuple[str, dict[str, Any]]] = [
        (
            "track",
            {
                "user_id": "dev-ann",
                "event": "Device Created or Updated",
                "properties": {"device": {"token": "apns-ann", "type": "ios"}, "app_version": "4.2"},
            },
        ),
        (
            "track",
            {
                "user_id": "dev-ann",
                "event": "Device Created or Updated",
                "properties": {"device": {"token": "fcm-old", "type": "android"}},
            },
        ),
        (
            "track",
            {
                "user_id": "dev-ann",
                "event": "Device Deleted",
                "properties": {"device": {"token": "fcm-old", "type": "android"}},
            },
        ),
    ]
    android = {
        "id": "dev-bob-pixel",
        "type": "android",
        "manufacturer": "Google",
        "model": "Pixel 8",
        "token": "fcm-bob",
    }
    segment: list[tuple[str, dict[str, Any]]] = [
        (
            "screen",
            {
                "user_id": "dev-bob",
                "name": "Home",
                "context": {
                    "device": android,
                    "os": {"name": "Android", "version": "15"},
                    "app": {"version": "4.1"},
                },
            },
        ),
        (
            "track",
            {
                "anonymous_id": "dev-cat",
                "event": "Opened",
                "context": {"device": {"id": "dev-cat-ipad", "type": "ios"}},
            },
        ),
    ]
    assert send_python(CustomerIo, key, host(running), cio) == []
    assert send_python(Segment, key, host(running), segment) == []
    running.wait_for(
        "SELECT count() AS n FROM devices FINAL WHERE person_id LIKE '%dev-%'",
        lambda rows: rows == [{"n": 4}],
    )
    raw_tokens = running.sql(
        "SELECT count() AS n FROM devices WHERE position(toString(tuple(*)), 'fcm-bob') > 0"
    )
    assert raw_tokens == [{"n": 0}]

    def query(body: dict[str, Any]) -> list[dict[str, Any]]:
        done = cli(
            "query",
            json.dumps({"site_id": running.site_id, "date_range": "all", **body}),
            data_dir=running.data_dir,
        )
        assert done.returncode == 0, done.stderr
        results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
        return results

    # One query (each CLI run costs seconds): per platform, live devices, with a token, their
    # people, and the devices whose latest call was Device Deleted.
    metrics = ["devices", "push_devices", "people_with_push_token", "deleted_devices"]
    per_platform = query({"metrics": metrics, "dimensions": ["device:platform"]})
    assert sorted((r["dimensions"][0], *r["metrics"]) for r in per_platform) == [
        ("android", 1, 1, 1, 1),
        ("ios", 2, 1, 1, 0),
    ]


def test_consent_from_both_sdks_is_recorded_enforced_queried_and_exported(stack: tuple[Stack, str]) -> None:
    """A site set to opt_in (through the CLI, as the API would): Customer.io's identify trait and
    Segment's context.consent and preference event are recorded; the refuser's calls are stored
    without their ids (none of them anywhere but their consent record); the query API reports
    the state per category; `people export` carries the history and the request is recorded."""
    from customerio.analytics import Client as CustomerIo
    from segment.analytics import Client as Segment

    running, _ = stack
    added = cli("sites", "add", "consent.example.com", data_dir=running.data_dir)
    assert added.returncode == 0, added.stderr
    site_id = added.stdout.strip().split()[0]
    setting = cli("sites", "set", site_id, "--consent", "opt_in", data_dir=running.data_dir)
    assert setting.returncode == 0 and "consent opt_in" in setting.stdout, setting.stderr
    made = cli("keys", "create", site_id, data_dir=running.data_dir)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    refused = {"categoryPreferences": {"Analytics": False, "Advertising": False}}
    cio: list[tuple[str, dict[str, Any]]] = [
        ("identify", {"user_id": "cns-refuser", "traits": {"email": "cns@example.com", "consent": refused}}),
        ("track", {"user_id": "cns-refuser", "event": "Viewed", "context": {"consent": refused}}),
    ]
    granted = {"categoryPreferences": {"Analytics": True, "Advertising": False}}
    segment: list[tuple[str, dict[str, Any]]] = [
        (
            "track",
            {
                "user_id": "cns-granter",
                "event": "Segment Consent Preference Updated",
                "context": {"consent": granted},
            },
        ),
        (
            "page",
            {
                "user_id": "cns-granter",
                "properties": {"url": "https://consent.example.com/?gclid=CNSGCLID"},
                "context": {"consent": granted},
            },
        ),
    ]
    assert send_python(CustomerIo, key, host(running), cio) == []
    assert send_python(Segment, key, host(running), segment) == []
    history = running.wait_for(
        "SELECT user_id, source, categories FROM consent_events FINAL"
        f" WHERE site_id = '{site_id}' ORDER BY user_id, source",
        lambda rows: len(rows) == 4,
    )
    # The explicit choices, and each person's context choice once for the day.
    assert [(r["user_id"], r["source"]) for r in history] == [
        ("cns-granter", "context"),
        ("cns-granter", "preference_event"),
        ("cns-refuser", "context"),
        ("cns-refuser", "identify"),
    ]
    [stored] = running.wait_for(
        "SELECT countIf(user_id = 'cns-granter') AS granter, countIf(user_id = '') AS anonymous,"
        " countIf(position(url, 'CNSGCLID') > 0) AS clicks FROM events FINAL"
        f" WHERE site_id = '{site_id}'",
        lambda rows: rows[0]["granter"] == 2 and rows[0]["anonymous"] == 2,
    )
    assert stored["clicks"] == 0  # advertising was refused by both
    leaks = running.sql(
        "SELECT (SELECT count() FROM identity_links WHERE from_id = 'cns-refuser' OR to_id = 'cns-refuser')"
        " + (SELECT count() FROM people WHERE user_id = 'cns-refuser') AS n"
    )
    assert leaks == [{"n": 0}]

    body = {
        "site_id": site_id,
        "date_range": "all",
        "metrics": ["consent_granted", "consent_refused"],
        "dimensions": ["consent:category"],
    }
    done = cli("query", json.dumps(body), data_dir=running.data_dir)
    assert done.returncode == 0, done.stderr
    by_category = {r["dimensions"][0]: r["metrics"] for r in json.loads(done.stdout)["results"]}
    assert by_category == {"Analytics": [1, 1], "Advertising": [0, 2]}

    exported = cli(
        "people", "export", "--site", site_id, "--user-id", "cns-granter", data_dir=running.data_dir
    )
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert sorted(c["source"] for c in data["tables"]["consent_events"]) == ["context", "preference_event"]
    assert data["privacy_requests"] == []  # the first request about them
    deleted = cli(
        "people", "delete", "--site", site_id, "--user-id", "cns-granter", data_dir=running.data_dir
    )
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["deleted"]["consent_events"] == 2
    requests = running.sql(
        "SELECT kind, subject_type, status, requested_by != '' AS who FROM privacy_requests FINAL"
        f" WHERE site_id = '{site_id}' ORDER BY requested_at"
    )
    assert requests == [
        {"kind": "export", "subject_type": "user_id", "status": "completed", "who": 1},
        {"kind": "delete", "subject_type": "user_id", "status": "completed", "who": 1},
    ]
    kept = running.sql(
        f"SELECT count() AS n FROM privacy_requests WHERE site_id = '{site_id}'"
        " AND position(formatRow('TSV', *), 'cns-granter') > 0"
    )
    assert kept == [{"n": 0}]  # the record of the deletion keeps none of what it erased
