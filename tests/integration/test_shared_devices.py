"""Shared browsers (issue 13, docs/identity.md "Shared devices"): each session, order and goal is
credited to the user signed in at the time, never to another user of the same browser.

Hits go in as the tag sends them (its wire body through the real collector) or as the SDKs send
them (Segment messages through the tracking API), orders through the payments API, then the
loader, identity resolution and the aggregation, on the embedded ClickHouse.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from clickhouse_connect.driver.client import Client

from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.sites import Site
from touchline.config.watermarks import MemoryWatermarks
from touchline.config.write_keys import WriteKey
from touchline.enrichment import FullEnricher
from touchline.identity.gdpr import delete, export, find_subject
from touchline.identity.resolve import resolve
from touchline.ingest.collect import Collector, IncomingHit
from touchline.ingest.queue import ListQueue
from touchline.ingest.site_cache import SiteResolver
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.revenue.payments_api import PaymentIn, translate
from touchline.tracking.api import ApiRequest, TrackingApi
from touchline.tracking.convert import MessageConverter
from touchline.tracking.enrich import ContextEnricher
from touchline.tracking.keys import WriteKeyResolver
from touchline.warehouse.client import connect
from touchline.warehouse.sql import ClientSql

SITE = "site1"
DOMAIN = "shop.example.com"
KEY = "tlwk_shared"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
DAY = datetime(2026, 11, 7, 9, 0, tzinfo=UTC)
ENRICHER = FullEnricher()  # in-memory daily salts: one cookieless hash per browser and day


class Warehouse:
    """Sends hits and payments through the real producers and the loader into ClickHouse."""

    def __init__(self, client: Client, cookieless: bool = False) -> None:
        self.client = client
        self.cookieless = cookieless

    def load(self, bodies: list[str]) -> None:
        batch = LoadBatch(ClickHouseRowSink(self.client))
        for body in bodies:
            batch.add(body)
        _, rejected, _ = batch.flush()
        assert rejected == []

    def tag(self, at: datetime, body: dict[str, Any]) -> None:
        outer = self

        class Sites:
            def by_domain(self, domain: str) -> Site | None:
                return Site(SITE, DOMAIN, "", cookieless=outer.cookieless) if domain == DOMAIN else None

        queue = ListQueue()
        collector = Collector(SiteResolver(Sites()), queue, ENRICHER, clock=lambda: at)
        collector.collect(IncomingHit(json.dumps(body).encode(), UA, "198.51.100.20"))
        self.load(queue.bodies)

    def sdk(self, messages: list[dict[str, Any]]) -> None:
        class Keys:
            def lookup(self, key: str) -> WriteKey | None:
                return WriteKey("kid", SITE, DOMAIN, "", False) if key == KEY else None

        queue = ListQueue()
        api = TrackingApi(WriteKeyResolver(Keys()), queue, MessageConverter(ContextEnricher(FullEnricher())))
        auth = {"authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()}
        api.handle(ApiRequest("batch", json.dumps({"batch": messages}).encode(), auth))
        self.load(queue.bodies)

    def payment(self, at: datetime, transaction: str, amount: str, **who: str) -> None:
        payment = PaymentIn.model_validate(
            {
                "transaction_id": transaction,
                "amount": amount,
                "currency": "USD",
                "timestamp": at.isoformat(),
                **who,
            }
        )
        self.load(translate(SITE, payment, at).bodies())


class Browser:
    """The tag in one browser: its visitor id and the signed-in user in localStorage, and the body
    it sends (touchline.js `send`)."""

    def __init__(self, warehouse: Warehouse, vid: str) -> None:
        self.warehouse, self.vid, self.uid = warehouse, vid, ""

    def send(self, at: datetime, name: str, url: str, referrer: str | None = None, **extra: Any) -> None:
        body: dict[str, Any] = {"n": name, "u": url, "d": DOMAIN, "r": referrer, "w": 1280, **extra}
        if not self.warehouse.cookieless:
            body["vid"] = self.vid
        if self.uid:
            body["uid"] = self.uid
        self.warehouse.tag(at, body)

    def page(self, at: datetime, path: str, referrer: str | None = None) -> None:
        self.send(at, "pageview", f"https://{DOMAIN}{path}", referrer)

    def identify(self, at: datetime, user: str) -> None:
        self.uid = user
        self.send(at, "identify", f"https://{DOMAIN}/account", i=False)

    def reset(self) -> None:
        """`touchline.reset()` on logout: the user id is forgotten (a cookieless site keeps its
        daily hash: there is no id to renew)."""
        self.uid = ""


def aggregate(client: Client, aggregator: Aggregator | None = None, full: bool = True) -> None:
    resolve(ClientSql(client), SITE)
    (aggregator or Aggregator(ClientSql(client), MemoryWatermarks())).run(
        SITE, AttributionSettings(), full=full
    )


def touchpoints(client: Client) -> dict[str, list[tuple[str, str, str]]]:
    """Each order's linear touchpoints: (person, session's signed-in user, source or campaign)."""
    rows = client.query(
        "SELECT c.conversion_id, c.person_id, s.user_id, if(c.campaign != '', c.campaign, c.source) "
        "FROM (SELECT * FROM attribution_credits FINAL WHERE model = 'linear') AS c "
        "LEFT JOIN (SELECT session_id, user_id FROM sessions FINAL) AS s ON s.session_id = c.session_id "
        "ORDER BY c.conversion_id, c.touch_index"
    ).result_rows
    found: dict[str, list[tuple[str, str, str]]] = {}
    for conversion, person, user, source in rows:
        found.setdefault(conversion, []).append((person, user, source))
    return found


def snapshot(client: Client) -> dict[str, list[tuple[Any, ...]]]:
    tables = {"sessions": "visitor_id, user_id, session_id, session_start, source, campaign"}
    tables["attribution_credits"] = (
        "conversion_id, model, touch_index, person_id, session_id, attributed_revenue"
    )
    tables["journeys"] = "journey_id, person_id, session_ids"
    return {t: sorted(client.query(f"SELECT {c} FROM {t} FINAL").result_rows) for t, c in tables.items()}


def test_household_laptop_credits_each_order_to_its_own_buyers_visits(warehouse_url: str) -> None:
    """A cookieless site, one laptop: every hit of the day has the same daily hash. Alice lands
    from the newsletter, signs in, buys, logs out; ten minutes later bob lands from Google, signs
    in and buys. Each order's touchpoints are its buyer's own visit, bob's anonymous landing
    included (it led to his sign-in), and the laptop stays a person of its own."""
    client = connect(warehouse_url)
    house = Warehouse(client, cookieless=True)
    laptop = Browser(house, "")
    laptop.page(DAY, "/?utm_source=newsletter&utm_medium=email&utm_campaign=nov")
    laptop.identify(DAY + timedelta(minutes=1), "alice")
    laptop.page(DAY + timedelta(minutes=3), "/checkout")
    house.payment(DAY + timedelta(minutes=4), "ord-alice", "40.00", customer_id="alice")
    laptop.reset()
    laptop.page(DAY + timedelta(minutes=14), "/", referrer="https://www.google.com/")
    laptop.identify(DAY + timedelta(minutes=15), "bob")
    laptop.page(DAY + timedelta(minutes=17), "/checkout")
    house.payment(DAY + timedelta(minutes=18), "ord-bob", "25.00", customer_id="bob")
    aggregate(client)

    assert touchpoints(client) == {
        "api:ord-alice": [("user:alice", "alice", "nov")],
        "api:ord-bob": [("user:bob", "bob", "Google")],
    }
    [(hashes,)] = client.query("SELECT uniqExact(visitor_id) FROM events").result_rows
    assert hashes == 1  # one shared visitor id all along
    people = client.query("SELECT DISTINCT person_id FROM journeys FINAL ORDER BY person_id").result_rows
    assert people == [("user:alice",), ("user:bob",)]


def test_a_tablet_used_alternately_credits_each_order_to_whoever_was_signed_in(warehouse_url: str) -> None:
    """A family tablet's app (an SDK's anonymousId that is never reset): alice and bob take turns,
    one switching straight to the other; orders name only the device. Each order goes to the user
    signed in when it was placed, with only that user's sessions, an anonymous visit is credited
    to nobody, and the incremental runs equal a full rebuild."""
    client = connect(warehouse_url)
    house = Warehouse(client)
    tablet = "tablet-0123456789ab"
    aggregator = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0)

    def page(at: datetime, user: str = "", query: str = "") -> dict[str, Any]:
        message: dict[str, Any] = {"type": "page", "anonymousId": tablet, "timestamp": at.isoformat()}
        message["context"] = {"page": {"url": f"https://{DOMAIN}/{query}"}}
        message["messageId"] = f"p-{at.isoformat()}"
        return message | ({"userId": user} if user else {})

    def identify(at: datetime, user: str) -> dict[str, Any]:
        return {"type": "identify", "anonymousId": tablet, "userId": user, "timestamp": at.isoformat()}

    evening = DAY + timedelta(hours=9)
    house.sdk(
        [
            page(evening, query="?utm_source=facebook&utm_medium=paid_social&utm_campaign=fb-autumn"),
            identify(evening + timedelta(minutes=1), "alice"),
            page(evening + timedelta(minutes=2), "alice"),
            page(evening + timedelta(hours=2), query="?utm_source=bing"),  # signed out, nobody signs in
        ]
    )
    house.payment(evening + timedelta(minutes=5), "ord-1", "30.00", visitor_id=tablet)
    aggregate(client, aggregator, full=False)
    morning = DAY + timedelta(days=1)
    house.sdk(
        [
            page(morning, query="?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"),
            identify(morning + timedelta(minutes=1), "bob"),
            page(morning + timedelta(minutes=2), "bob"),
            # alice takes the tablet and signs in over bob, within the same visit
            identify(morning + timedelta(minutes=20), "alice"),
            page(
                morning + timedelta(minutes=21),
                "alice",
                "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
            ),
        ]
    )
    house.payment(morning + timedelta(minutes=5), "ord-2", "20.00", visitor_id=tablet)
    house.payment(morning + timedelta(minutes=25), "ord-3", "10.00", visitor_id=tablet)
    aggregate(client, aggregator, full=False)

    assert touchpoints(client) == {
        "api:ord-1": [("user:alice", "alice", "fb-autumn")],
        "api:ord-2": [("user:bob", "bob", "weekly")],
        "api:ord-3": [("user:alice", "alice", "fb-autumn"), ("user:alice", "alice", "brand")],
    }
    anonymous = client.query(
        "SELECT person_id, sources FROM journeys FINAL WHERE converted = 0 AND person_id LIKE 'visitor:%'"
    ).result_rows
    assert anonymous == [(f"visitor:{tablet}", ["Bing"])]
    incremental = snapshot(client)
    aggregate(client, aggregator, full=True)
    assert snapshot(client) == incremental


def test_an_agency_kiosk_keeps_every_staff_member_and_walk_in_apart(warehouse_url: str) -> None:
    """An agency's kiosk on a cookieless site (one daily hash for everyone): three staff members
    sign in and out in turn, each placing an order, and walk-in customers browse anonymously
    between them and buy as guests by email. Each staff order has that member's visit only;
    walk-ins' visits are nobody's; a member's export holds none of the others' hits or orders,
    and deleting one keeps the others' data and credits."""
    client = connect(warehouse_url)
    agency = Warehouse(client, cookieless=True)
    kiosk = Browser(agency, "")
    staff = ["ann", "ben", "cat"]
    for i, member in enumerate(staff):
        start = DAY + timedelta(hours=2 * i)
        kiosk.page(start, f"/?utm_source=crm&utm_campaign=brief-{member}")
        kiosk.identify(start + timedelta(minutes=1), member)
        kiosk.page(start + timedelta(minutes=2), "/checkout")
        agency.payment(start + timedelta(minutes=3), f"ord-{member}", "50.00", customer_id=member)
        kiosk.reset()
        walk_in = start + timedelta(hours=1)
        kiosk.page(walk_in, f"/?utm_source=poster&utm_campaign=walk-in-{i}")
        agency.payment(
            walk_in + timedelta(minutes=4), f"ord-guest-{i}", "5.00", email=f"guest{i}@example.com"
        )
    aggregate(client)

    found = touchpoints(client)
    for member in staff:
        assert found[f"api:ord-{member}"] == [(f"user:{member}", member, f"brief-{member}")]
    for i in range(3):
        [(_, user, source)] = found[f"api:ord-guest-{i}"]
        assert (user, source) == ("", "")  # (none): a guest's order has no visit
    [(kiosk_id,)] = client.query("SELECT DISTINCT visitor_id FROM events").result_rows
    walk_ins = client.query(
        "SELECT person_id, campaigns FROM journeys FINAL WHERE converted = 0 ORDER BY started_at"
    ).result_rows
    assert walk_ins == [(f"visitor:{kiosk_id}", [f"walk-in-{i}" for i in range(3)])]  # one journey

    sql = ClientSql(client)
    ann = find_subject(sql, SITE, user_id="ann")
    dumped = json.dumps(export(sql, ann))
    assert "ord-ann" in dumped and "brief-ann" in dumped
    for other in ("ben", "cat", "ord-guest", "walk-in"):
        assert other not in dumped, other
    delete(sql, ann)
    [(left,)] = client.query("SELECT count() FROM events WHERE user_id = 'ann'").result_rows
    assert left == 0
    kept = client.query(
        "SELECT conversion_id, sum(attributed_revenue) FROM attribution_credits FINAL WHERE model = 'linear' "
        "AND person_id IN ('user:ben', 'user:cat') GROUP BY conversion_id ORDER BY conversion_id"
    ).result_rows
    assert kept == [("api:ord-ben", Decimal("50.00")), ("api:ord-cat", Decimal("50.00"))]
    for member in ("ben", "cat"):
        assert f"ord-{member}" in json.dumps(export(sql, find_subject(sql, SITE, user_id=member)))
