from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from touchline.enrichment import FullEnricher, InMemorySaltStore
from touchline.enrichment.useragent import Agent, UserAgentParser
from touchline.ingest.collect import build_row
from touchline.ingest.enrich import DropHit, HitContext, UrlEnricher
from touchline.ingest.hit import PlausibleHit
from touchline.ingest.service import default_enricher

from . import agents as ua

MOMENT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def hit(**changes: object) -> HitContext:
    fields: dict[str, object] = {
        "site_id": "site1",
        "site_domain": "shop.example.com",
        "url": "https://www.shop.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0K",
        "referrer": "https://www.google.com/",
        "user_agent": ua.SAFARI_IPHONE,
        "ip": "203.0.113.7",
        "timestamp": MOMENT,
        "headers": {"cloudfront-viewer-country": "FR", "cloudfront-viewer-city": "Lyon"},
    }
    fields.update(changes)
    return HitContext(**fields)  # type: ignore[arg-type]


def enricher() -> FullEnricher:
    return FullEnricher(InMemorySaltStore(clock=lambda: MOMENT.timestamp()))


def test_a_paid_search_hit_from_an_iphone() -> None:
    columns = enricher().enrich(hit())
    visitor_id = columns.pop("visitor_id")
    assert columns == {
        "hostname": "shop.example.com",
        "pathname": "/pricing",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "brand",
        "referrer_source": "Google",
        "channel": "Paid Search",
        "click_id": "Cj0K",
        "click_id_type": "gclid",
        "browser": "Safari",
        "browser_version": "17.5",
        "os": "iOS",
        "os_version": "17.5",
        "device_type": "mobile",
        "country": "FR",
        "region": "",
        "city": "Lyon",
    }
    assert isinstance(visitor_id, str) and visitor_id.isdigit()


def test_it_fills_everything_the_url_enricher_fills_the_same_way() -> None:
    context = hit(visitor_id="tag-uuid-1")
    minimal = UrlEnricher().enrich(context)
    full = enricher().enrich(context)
    assert {key: full[key] for key in minimal} == minimal


def test_the_columns_make_a_valid_events_row() -> None:
    context = hit(visitor_id=None)
    plausible = PlausibleHit.model_validate({"n": "pageview", "u": context.url, "d": "shop.example.com"})
    row = build_row(plausible, context, enricher().enrich(context))
    assert row.channel == "Paid Search"
    assert row.country == "FR"
    assert context.ip not in row.model_dump_json()


def test_the_tags_visitor_id_wins_over_the_cookieless_hash() -> None:
    assert enricher().enrich(hit(visitor_id="4c8c0b4e-uuid"))["visitor_id"] == "4c8c0b4e-uuid"


def test_cookieless_ids_are_stable_within_a_day_and_differ_across_days_and_sites() -> None:
    full = enricher()
    morning = full.enrich(hit())["visitor_id"]
    assert full.enrich(hit(timestamp=MOMENT + timedelta(hours=10), url="https://shop.example.com/"))[
        "visitor_id"
    ] == (morning)
    assert full.enrich(hit(timestamp=MOMENT + timedelta(days=1)))["visitor_id"] != morning
    assert full.enrich(hit(site_domain="other.example.org"))["visitor_id"] != morning


def test_previous_visitor_id_joins_a_session_across_midnight() -> None:
    full = enricher()
    late = full.enrich(hit(timestamp=datetime(2026, 11, 22, 23, 58, tzinfo=UTC)))["visitor_id"]
    early = hit(timestamp=datetime(2026, 11, 23, 0, 2, tzinfo=UTC))
    assert full.enrich(early)["visitor_id"] != late
    assert full.previous_visitor_id(early) == late
    assert full.previous_visitor_id(hit(visitor_id="tag")) is None


@pytest.mark.parametrize("agent", [ua.GOOGLEBOT, ua.HEADLESS_CHROME, ua.CURL, ""])
def test_bots_are_dropped(agent: str) -> None:
    full = enricher()
    with pytest.raises(DropHit) as dropped:
        full.enrich(hit(user_agent=agent))
    assert dropped.value.reason == "bot"


def test_referrer_spam_is_dropped() -> None:
    full = enricher()
    with pytest.raises(DropHit) as dropped:
        full.enrich(hit(referrer="http://free-share-buttons.com/"))
    assert dropped.value.reason == "referrer_spam"


def test_self_referrals_are_direct_but_a_neighbour_on_the_same_suffix_is_a_referral() -> None:
    full = enricher()
    site = {"site_domain": "shop.co.uk", "url": "https://shop.co.uk/cart"}
    own_blog = full.enrich(hit(referrer="https://blog.shop.co.uk/post", **site))
    assert (own_blog["referrer_source"], own_blog["channel"]) == ("", "Direct")
    neighbour = full.enrich(hit(referrer="https://other.co.uk/", **site))
    assert (neighbour["referrer_source"], neighbour["channel"]) == ("other.co.uk", "Referral")


def test_parsed_agents_are_cached() -> None:
    class CountingParser(UserAgentParser):
        calls = 0

        def parse(self, ua: str) -> Agent:
            CountingParser.calls += 1
            return super().parse(ua)

    full = FullEnricher(InMemorySaltStore(), agents=CountingParser())
    for _ in range(5):
        full.enrich(hit(visitor_id="v"))
    assert CountingParser.calls == 1


def test_a_changed_row_does_not_change_the_next_hits_cached_landing() -> None:
    full = enricher()
    first = full.enrich(hit(visitor_id="v"))
    first.update(utm_source="edited", channel="edited", hostname="edited")
    first.pop("utm_campaign")
    second = full.enrich(hit(visitor_id="v"))
    assert (second["utm_source"], second["channel"], second["hostname"]) == (
        "google",
        "Paid Search",
        "shop.example.com",
    )
    assert second["utm_campaign"] == "brand"


def test_hits_on_different_landings_get_their_own_columns() -> None:
    full = enricher()
    paid = full.enrich(hit(visitor_id="v"))
    organic = full.enrich(hit(visitor_id="v", url="https://shop.example.com/blog?page=2"))
    assert (paid["channel"], paid["pathname"]) == ("Paid Search", "/pricing")
    assert (organic["channel"], organic["referrer_source"], organic["pathname"]) == (
        "Organic Search",
        "Google",
        "/blog",
    )
    assert "utm_source" not in organic


def test_malformed_urls_do_not_break_enrichment() -> None:
    columns = enricher().enrich(hit(url="https://[::1/oops", referrer="http://[bad"))
    assert (columns["hostname"], columns["pathname"], columns["channel"]) == ("", "/", "Direct")


def test_without_geo_headers_the_country_comes_from_the_ip() -> None:
    columns = enricher().enrich(hit(headers={}, ip="8.8.8.8"))
    assert (columns["country"], columns["region"], columns["city"]) == ("US", "", "")


def test_warm_loads_every_table() -> None:
    full = enricher()
    full.warm()
    assert full.enrich(hit(visitor_id="v"))["browser"] == "Safari"


def test_the_collector_enricher_keeps_its_salts_in_the_config_table(aws: dict[str, str]) -> None:
    default_enricher(aws["TOUCHLINE_CONFIG_TABLE"]).enrich(hit(timestamp=datetime.now(UTC)))
    items = boto3.client("dynamodb").query(
        TableName=aws["TOUCHLINE_CONFIG_TABLE"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SALT"}},
    )["Items"]
    assert [item["sk"]["S"] for item in items] == [datetime.now(UTC).date().isoformat()]


def test_salt_store_failures_are_reported_not_raised() -> None:
    class BrokenStore:
        def get(self, day: date) -> bytes | None:
            raise ConnectionError("dynamodb unreachable")

        def put(self, day: date, salt: bytes) -> bytes:
            raise ConnectionError("dynamodb unreachable")

    reported: list[tuple[str, str, object]] = []
    full = FullEnricher(BrokenStore(), degraded=lambda dep, exc, **ctx: reported.append((dep, str(exc), ctx)))
    assert full.enrich(hit())["visitor_id"]
    assert reported == [("salt_store", "dynamodb unreachable", {"day": hit().timestamp.date().isoformat()})]
