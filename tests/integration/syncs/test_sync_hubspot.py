"""HubSpot sync against a fake CRM search API (tests/fakes/hubspot.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fakes.harness import SITE, SyncHarness, watermarks
from fakes.hubspot import FakeHubSpot
from touchline.identity.rows import email_sha256
from touchline.syncs.service import run_sync

START = datetime(2026, 3, 1, tzinfo=UTC)
TOKEN = "pat-na1-secret"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(token=TOKEN)
    for i in range(450):
        fake.put(
            "contacts",
            str(1000 + i),
            START + timedelta(minutes=i),
            email=f"Lead{i}@Example.org",
            firstname=f"Lead{i}",
            lastname="Smith",
            lifecyclestage="lead",
        )
    for i in range(20):
        fake.put(
            "deals",
            str(500 + i),
            START + timedelta(hours=i),
            dealname=f"Deal {i}",
            amount=f"{100 + i}.50",
            deal_currency_code="EUR",
            closedate="2026-03-10T12:00:00.000Z",
            dealstage="closedwon" if i % 5 else "appointmentscheduled",
            pipeline="default",
        )
        fake.deal_contacts[str(500 + i)] = [1000 + i, 9999]
    with fake.serve():
        yield fake
    # Every request the sync sent is one the provider's published API document accepts.
    assert fake.refusals == [], fake.refusals


def connect(harness: SyncHarness, fake: FakeHubSpot, **options: object) -> None:
    harness.connect("hubspot", {"access_token": TOKEN}, fake.base_url, **options)


def contacts(harness: SyncHarness) -> dict[str, tuple[str, str]]:
    rows = harness.rows(
        "SELECT customer_id, email, first_name FROM integration_customers FINAL WHERE source = 'hubspot'"
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def expected_contacts(fake: FakeHubSpot) -> dict[str, tuple[str, str]]:
    return {i: (p["email"].lower(), p["firstname"]) for i, p in fake.objects["contacts"].items()}


def test_full_sync_equals_the_fakes_data(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    connect(harness, hubspot, deals_as_orders=True)
    report = run_sync(harness.env, SITE, "hubspot")
    assert report.complete, report.summary()
    assert contacts(harness) == expected_contacts(hubspot)
    link = harness.rows(
        "SELECT from_type, from_id FROM identity_links FINAL "
        "WHERE to_type = 'hubspot_contact' AND to_id = '1003'"
    )
    assert link == [("email_sha256", email_sha256("lead3@example.org"))]
    won = {i: p for i, p in hubspot.objects["deals"].items() if p["dealstage"] == "closedwon"}
    orders = harness.rows(
        "SELECT order_id, amount, currency, customer_id FROM orders FINAL WHERE source = 'hubspot'"
    )
    assert sorted(orders) == sorted(
        (i, Decimal(p["amount"]), "EUR", str(hubspot.deal_contacts[i][0])) for i, p in won.items()
    )
    bodies = [r.json() for r in hubspot.served if r.path.endswith("/search")]
    assert all(
        b["sorts"] == [{"propertyName": b["sorts"][0]["propertyName"], "direction": "ASCENDING"}]
        for b in bodies
    )


def test_deals_are_orders_only_when_asked(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    connect(harness, hubspot)
    run_sync(harness.env, SITE, "hubspot")
    assert harness.scalar("SELECT count() FROM orders FINAL") == 0
    assert not any("/deals/" in r.path for r in hubspot.calls)


def test_incremental_run_fetches_only_changes(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    connect(harness, hubspot, deals_as_orders=True)
    run_sync(harness.env, SITE, "hubspot")
    later = START + timedelta(days=2)
    hubspot.put("contacts", "1003", later, email="moved@example.org", firstname="Moved")
    hubspot.put("contacts", "5000", later, email="new@example.org", firstname="New")
    hubspot.put("deals", "505", later, dealstage="closedlost")  # was won: no longer an order
    report = run_sync(harness.env, SITE, "hubspot")
    # The two changed contacts, and those within the 10-minute overlap before the watermark
    # (the fake's contacts are a minute apart: minutes 439-449 of 450).
    assert report.streams["contacts"].records == 2 + 11
    assert report.streams["deals"].records == 2  # the changed deal and the last one (the overlap)
    assert contacts(harness) == expected_contacts(hubspot)
    assert harness.scalar("SELECT count() FROM orders FINAL WHERE order_id = '505'") == 0


def test_rate_limits_without_retry_after_back_off(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    hubspot.faults.rate_limit_every = 3
    hubspot.faults.error_every = 7
    connect(harness, hubspot)
    assert run_sync(harness.env, SITE, "hubspot").complete
    assert contacts(harness) == expected_contacts(hubspot)
    assert harness.sleeps and all(0 < s <= 30 for s in harness.sleeps)


def test_a_record_modified_while_paging_skips_nothing(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    """Offset paging would skip a record here: the one modified moves to the end and the rest
    slide back. Re-anchored queries get every contact in one run."""

    def modify(call: int) -> None:
        if call == 2:
            hubspot.put(
                "contacts", "1010", START + timedelta(days=1), email="edited@example.org", firstname="Edited"
            )

    hubspot.between_calls = modify
    connect(harness, hubspot)
    assert run_sync(harness.env, SITE, "hubspot").complete
    assert contacts(harness) == expected_contacts(hubspot)


def test_more_than_a_page_sharing_one_timestamp(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    for i in range(250):  # an import: 250 contacts modified in the same millisecond
        hubspot.put(
            "contacts",
            str(20_000 + i),
            START + timedelta(days=3),
            email=f"bulk{i}@example.org",
            firstname="Bulk",
        )
    connect(harness, hubspot)
    assert run_sync(harness.env, SITE, "hubspot").complete
    assert contacts(harness) == expected_contacts(hubspot)


def test_revoked_token_fails_clearly_and_keeps_watermarks(harness: SyncHarness, hubspot: FakeHubSpot) -> None:
    connect(harness, hubspot)
    run_sync(harness.env, SITE, "hubspot")
    before = watermarks(harness, "hubspot")
    hubspot.token = "pat-rotated"
    report = run_sync(harness.env, SITE, "hubspot")
    assert "HTTP 401" in report.error and "Authentication credentials not found" in report.error
    integration = harness.env.integrations.get(SITE, "hubspot")
    assert integration is not None and integration.status == "failing"
    assert watermarks(harness, "hubspot") == before  # a failed attempt is recorded, nothing moved
