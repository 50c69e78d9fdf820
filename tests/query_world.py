"""A known site for the query API's tests: generated hits, and the answers computed in Python.

`World.build(today)` makes 46 days of traffic for `dummy.site` (the site Plausible's docs
examples name): the 45 days before `today` and `today` itself. The expected answers never look
at ClickHouse: sessions come from the attribution oracle (tests/attribution_oracle.py, the
definitions of docs/attribution.md in plain Python), and every metric is counted here from the
hits, so a query that returns these numbers computed them right.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from attribution_oracle import Hit, Order, Session, sessionize
from touchline.ingest.rows import EventRow
from touchline.revenue.rows import OrderRow

DOMAIN = "dummy.site"
# The day Plausible's docs examples were answered on: "7d" is 2024-09-04..2024-09-10 there.
DOCS_TODAY = date(2024, 9, 11)
GOALS = ("Signup", "PurchaseUSD", "PurchaseEUR")
PAGES = ("/", "/docs/start", "/pricing", "/blog/post", "/BLOG/launch", "/login")
PLACES = (
    ("EE", "Tallinn"),
    ("BR", "São Paulo"),
    ("DE", "Berlin"),
    ("IT", "Rome"),
    ("US", "San Francisco"),
    ("PL", "Warsaw"),
    ("", ""),
)
COUNTRY_NAMES = {
    "EE": "Estonia",
    "BR": "Brazil",
    "DE": "Germany",
    "IT": "Italy",
    "US": "United States",
    "PL": "Poland",
    "": "",
}
OSES = ("GNU/Linux", "Mac", "Windows", "iOS")
# (source shown, utm_source, utm_medium, utm_campaign, channel)
ACQUISITIONS = (
    ("", "", "", "", "Direct"),
    ("Google", "google", "", "", "Organic Search"),
    ("Twitter", "twitter", "social", "", "Organic Social"),
    ("Facebook", "facebook", "social", "Referral", "Organic Social"),
    ("DuckDuckGo", "duckduckgo", "", "", "Organic Search"),
    ("newsletter", "", "email", "Referral", "Email"),
)


@dataclass(frozen=True)
class WorldHit:
    hit: Hit
    utm_source: str = ""
    country: str = ""
    city: str = ""
    os: str = ""
    hostname: str = DOMAIN
    props: tuple[tuple[str, str], ...] = ()

    @property
    def prop(self) -> dict[str, str]:
        return dict(self.props)

    def row(self, site_id: str) -> EventRow:
        h = self.hit
        return EventRow(
            event_id=uuid.UUID(h.event_id),
            site_id=site_id,
            timestamp=h.at,
            received_at=h.at,
            event_type=h.event_type,
            name=h.name,
            visitor_id=h.visitor_id,
            url=f"https://{self.hostname}{h.pathname}",
            hostname=self.hostname,
            pathname=h.pathname,
            referrer_source=h.source,
            utm_source=self.utm_source,
            utm_medium=h.medium,
            utm_campaign=h.campaign,
            channel=h.channel,
            device_type=h.device_type,
            os=self.os,
            country=self.country,
            city=self.city,
            props=dict(self.props),
            revenue=h.revenue,
            currency=h.currency,
        )


@dataclass
class World:
    hits: list[WorldHit]
    sessions: list[Session] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    timezone: str = "UTC"

    @classmethod
    def build(cls, today: date, visitors: int = 240, seed: int = 14) -> World:
        rng = random.Random(seed)
        hits: list[WorldHit] = []
        # 45 days before today and today itself (the docs' `day` example has data).
        start = datetime.combine(today - timedelta(days=45), datetime.min.time(), UTC)
        for v in range(visitors):
            visitor = f"visitor-{v:04d}"
            country, city = rng.choice(PLACES)
            os_name = rng.choice(OSES)
            device = rng.choice(("desktop", "mobile", "tablet"))
            customer = rng.choice(("true", "false"))
            for _ in range(rng.randint(1, 3)):
                at = start + timedelta(seconds=rng.randrange(46 * 86400 - 3600))
                source, utm_source, medium, campaign, channel = rng.choice(ACQUISITIONS)
                for i in range(rng.randint(1, 5)):
                    event_type, name, revenue, currency = "pageview", "pageview", None, ""
                    roll = rng.random()
                    if i > 0 and roll < 0.15:
                        event_type, name = "goal", "Signup"
                    elif i > 0 and roll < 0.2:
                        event_type, name, revenue, currency = (
                            "goal",
                            "PurchaseUSD",
                            Decimal(rng.randint(5, 90)),
                            "USD",
                        )
                    elif i > 0 and roll < 0.23:
                        event_type, name, revenue, currency = "goal", "PurchaseEUR", Decimal("12.50"), "EUR"
                    first = i == 0
                    hit = Hit(
                        event_id=str(uuid.UUID(int=rng.getrandbits(128))),
                        visitor_id=visitor,
                        at=at,
                        event_type=event_type,
                        name=name,
                        source=source if first else "",
                        medium=medium if first else "",
                        campaign=campaign if first else "",
                        channel=channel if first else "",
                        pathname=rng.choice(PAGES),
                        device_type=device,
                        revenue=revenue,
                        currency=currency,
                    )
                    hits.append(
                        WorldHit(
                            hit,
                            utm_source=utm_source if first else "",
                            country=country,
                            city=city,
                            os=os_name,
                            props=(("is_customer", customer),),
                        )
                    )
                    at += timedelta(seconds=rng.randint(5, 400))
        world = cls(hits)
        world.sessions = sessionize([h.hit for h in hits])
        # Orders by a tenth of the visitors, an hour after one of their hits (USD and EUR).
        for i, h in enumerate(sorted(hits, key=lambda x: x.hit.event_id)[:: max(1, len(hits) // 60)]):
            world.orders.append(
                OrderRow(
                    site_id="world",
                    source="stripe",
                    order_id=f"pi_world_{i}",
                    status="paid",
                    ordered_at=h.hit.at + timedelta(hours=1),
                    currency="EUR" if i % 4 == 0 else "USD",
                    amount=Decimal(rng.randint(500, 20000)) / 100,
                    visitor_id=h.hit.visitor_id,
                    version=1,
                )
            )
        return world

    def rows(self, site_id: str) -> list[str]:
        return [h.row(site_id).to_json() for h in self.hits]

    def order_rows(self, site_id: str) -> list[str]:
        return [o.model_copy(update={"site_id": site_id}).to_json() for o in self.orders]

    def oracle_orders(self) -> list[Order]:
        """The orders as the attribution oracle takes them (they are conversions too)."""
        return [
            Order(o.source, o.order_id, o.ordered_at, o.amount, o.currency, visitor_id=o.visitor_id or "")
            for o in self.orders
        ]

    # ------------------------------------------------------------------ expectations

    def session_of(self) -> dict[str, Session]:
        """Hit event id → its session."""
        return {h.event_id: s for s in self.sessions for h in s.hits}

    def extras(self) -> dict[str, WorldHit]:
        return {h.hit.event_id: h for h in self.hits}


@dataclass(frozen=True)
class Visit:
    """What visit dimensions see: a session and its first hit's extra columns."""

    session: Session
    first: WorldHit

    def value(self, dimension: str) -> str:
        first, hit = self.first, self.session.hits[0]
        values = {
            "visit:source": hit.source or "Direct / None",
            "visit:channel": self.session.channel,
            "visit:utm_medium": hit.medium or "(not set)",
            "visit:utm_source": first.utm_source or "(not set)",
            "visit:utm_campaign": hit.campaign or "(not set)",
            "visit:country": first.country,
            "visit:country_name": COUNTRY_NAMES[first.country],
            "visit:city": first.city,
            "visit:city_name": first.city,
            "visit:os": first.os or "(not set)",
            "visit:device": hit.device_type.capitalize(),
            "visit:entry_page": hit.pathname,
        }
        return values[dimension]


def local_day(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).date().isoformat()


def local_hour(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:00:00")


class Expect:
    """Counts over the world for a `[start, end)` range, by the definitions the engine implements."""

    def __init__(self, world: World, start: datetime, end: datetime) -> None:
        self.world = world
        self.start, self.end = start, end
        extras = world.extras()
        self.visits = [Visit(s, extras[s.session_id]) for s in world.sessions]
        self._session_of = world.session_of()
        self._extras = extras

    def events(
        self, predicate: Callable[[WorldHit, Visit | None], bool] = lambda h, v: True
    ) -> list[WorldHit]:
        out = []
        for h in self.world.hits:
            if not self.start <= h.hit.at < self.end:
                continue
            session = self._session_of.get(h.hit.event_id)
            visit = Visit(session, self._extras[session.session_id]) if session else None
            if predicate(h, visit):
                out.append(h)
        return out

    def sessions(self, predicate: Callable[[Visit], bool] = lambda v: True) -> list[Visit]:
        return [v for v in self.visits if self.start <= v.session.start < self.end and predicate(v)]

    @staticmethod
    def visitors(hits: Iterable[WorldHit]) -> int:
        return len({h.hit.visitor_id for h in hits})

    @staticmethod
    def group(
        items: Iterable[Any], key: Callable[[Any], tuple[str, ...]]
    ) -> dict[tuple[str, ...], list[Any]]:
        out: dict[tuple[str, ...], list[Any]] = defaultdict(list)
        for item in items:
            out[key(item)].append(item)
        return out

    @staticmethod
    def session_metrics(visits: list[Visit]) -> dict[str, int]:
        n = len(visits)
        summaries = [v.session.summary() for v in visits]
        bounces = sum(int(s["is_bounce"]) for s in summaries)  # type: ignore[call-overload]
        return {
            "visitors": len({v.session.visitor_id for v in visits}),
            "visits": n,
            "pageviews": sum(int(s["pageviews"]) for s in summaries),  # type: ignore[call-overload]
            "events": sum(int(s["hits"]) for s in summaries),  # type: ignore[call-overload]
            "bounce_rate": round(bounces / n * 100) if n else 0,
            "visit_duration": round(sum(int(s["duration_s"]) for s in summaries) / n) if n else 0,  # type: ignore[call-overload]
        }


@dataclass
class Loaded:
    """A world loaded into its own database of the embedded engine, and the engine over it."""

    client: Any
    world: World
    site: Any  # touchline.query.model.SiteContext
    url: str
    now: datetime

    def engine(self, **options: Any) -> Any:
        from touchline.query.engine import QueryEngine
        from touchline.query.service import QUERY_SETTINGS
        from touchline.query.sql import ClientWarehouse

        # The query function's own settings (FINAL within partitions among them), so the
        # answers tested are those the deployed engine gives.
        return QueryEngine(ClientWarehouse(self.client, QUERY_SETTINGS), clock=lambda: self.now, **options)

    def run(self, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.engine(**options).run(body, self.site)
        return result


def load_world(
    chdb_path: Any, world: World, now: datetime, site_id: str = "dummysite0000001", timezone: str = "UTC"
) -> Loaded:
    """Insert the world's hits and orders and run the real aggregation (sessions, six models)."""
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.load.clickhouse_sink import ClickHouseRowSink
    from touchline.query.model import Goal, SiteContext
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate
    from touchline.warehouse.sql import ClientSql

    url = f"chdb://{chdb_path}?database=q_{uuid.uuid4().hex[:12]}"
    client = connect(url)
    # Retention long enough for 2024 data whatever today is (the TTL counts from the real now).
    migrate(client, retention=3650)
    sink = ClickHouseRowSink(client)
    sink.insert_rows("events", world.rows(site_id), "events")
    sink.insert_rows("orders", world.order_rows(site_id), "orders")
    goals = tuple(ConversionGoal(g) for g in GOALS)
    Aggregator(ClientSql(client), MemoryWatermarks()).run(
        site_id, AttributionSettings(goals=goals), full=True
    )
    site = SiteContext(site_id, DOMAIN, timezone, tuple(Goal(g, g) for g in GOALS))
    return Loaded(client, world, site, url, now)
