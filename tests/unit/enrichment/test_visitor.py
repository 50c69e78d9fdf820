from __future__ import annotations

from datetime import UTC, datetime, timedelta

from touchline.enrichment.salts import DailySalts, InMemorySaltStore
from touchline.enrichment.visitor import VisitorIds, cookieless_id

from . import agents as ua

MORNING = datetime(2026, 11, 22, 8, tzinfo=UTC)
NOW = MORNING.timestamp()


def ids() -> VisitorIds:
    return VisitorIds(DailySalts(InMemorySaltStore(clock=lambda: NOW)))


def visit(visitors: VisitorIds, moment: datetime = MORNING, **changes: str) -> str:
    fields = {"user_agent": ua.CHROME_MAC, "ip": "203.0.113.7", "site_domain": "shop.example.com"}
    fields.update(changes)
    return visitors.current(moment, root_domain="example.com", **fields)


def test_siphash_matches_the_reference_vector() -> None:
    # SipHash-2-4 paper, key 00..0f, message 00..0e: a129ca6149be45e5 (little-endian output).
    from siphashc import siphash

    assert siphash(bytes(range(16)), bytes(range(15))) == 0xA129CA6149BE45E5


def test_the_id_is_stable_within_a_day() -> None:
    visitors = ids()
    assert visit(visitors) == visit(visitors, MORNING + timedelta(hours=15))
    assert visit(visitors).isdigit()


def test_the_id_changes_with_the_day_the_site_the_agent_and_the_ip() -> None:
    visitors = ids()
    base = visit(visitors)
    assert visit(visitors, MORNING + timedelta(days=1)) != base
    assert visit(visitors, site_domain="blog.example.org") != base
    assert visit(visitors, user_agent=ua.FIREFOX_WINDOWS) != base
    assert visit(visitors, ip="203.0.113.8") != base


def test_two_containers_sharing_a_store_agree() -> None:
    store = InMemorySaltStore(clock=lambda: NOW)
    first = VisitorIds(DailySalts(store))
    second = VisitorIds(DailySalts(store))
    assert visit(first) == visit(second)


def test_previous_is_the_id_under_yesterdays_salt_for_sessions_crossing_midnight() -> None:
    visitors = ids()
    before_midnight = visit(visitors, datetime(2026, 11, 22, 23, 55, tzinfo=UTC))
    after = datetime(2026, 11, 23, 0, 5, tzinfo=UTC)
    assert visit(visitors, after) != before_midnight
    fields = {"user_agent": ua.CHROME_MAC, "ip": "203.0.113.7", "site_domain": "shop.example.com"}
    assert visitors.previous(after, root_domain="example.com", **fields) == before_midnight


def test_previous_is_none_when_yesterday_had_no_salt() -> None:
    assert ids().previous(MORNING, ua.CHROME_MAC, "203.0.113.7", "shop.example.com", "example.com") is None


def test_cookieless_id_is_the_plausible_construction() -> None:
    salt = b"0123456789abcdef"
    from siphashc import siphash

    expected = siphash(salt, f"{ua.CHROME_MAC}203.0.113.7shop.example.comexample.com".encode())
    assert cookieless_id(salt, ua.CHROME_MAC, "203.0.113.7", "shop.example.com", "example.com") == str(
        expected
    )


def test_naive_timestamps_count_as_utc() -> None:
    visitors = ids()
    assert visit(visitors, MORNING.replace(tzinfo=None)) == visit(visitors)
