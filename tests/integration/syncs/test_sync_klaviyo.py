"""Klaviyo sync against a fake Klaviyo that follows the documented API (tests/fakes/klaviyo.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from fakes.harness import SITE, FailingSink, SyncHarness, watermarks
from fakes.klaviyo import Campaign, Event, FakeKlaviyo, add_orders, api_placed_order
from touchline.syncs.deadline import Deadline
from touchline.syncs.service import run_sync

START = datetime(2026, 9, 1, tzinfo=UTC)
KEY = "pk_live_secret"


@pytest.fixture
def klaviyo() -> Iterator[FakeKlaviyo]:
    fake = FakeKlaviyo(api_key=KEY)
    fake.add_metric("PLACED", "Placed Order", "shopify")
    fake.add_metric("REFUND", "Refunded Order", "shopify")
    fake.add_metric("APIORD", "Placed Order", "api")
    fake.add_metric("VIEWED", "Viewed Product", "shopify")
    add_orders(fake, 1200, start=START, lines_per_order=3, profiles=40)
    # Klaviyo credits two orders to a flow message and one to a campaign message.
    for order_id, credit in (
        (5_000_000_001, ("flow", "F1", "FM1")),
        (5_000_000_002, ("flow", "F1", "FM1")),
        (5_000_000_003, ("campaign", "C1", "M1")),
    ):
        fake._events[f"ev{order_id}"].attributed = credit
    for i in range(40):
        fake.add_profile(f"prof{i}", f"Buyer{i}@Example.com", START + timedelta(hours=i), first_name=f"B{i}")
    fake.add_event(
        Event(
            "api1",
            "APIORD",
            START + timedelta(days=1),
            api_placed_order(
                "A-1001",
                59.97,
                [
                    {
                        "ProductID": "p1",
                        "SKU": "S1",
                        "ProductName": "Mug",
                        "Quantity": 3,
                        "ItemPrice": 19.99,
                        "RowTotal": 59.97,
                    }
                ],
            ),
            "prof1",
        )
    )
    fake.add_event(
        Event(
            "ref1",
            "REFUND",
            START + timedelta(days=2),
            {"$event_id": str(5_000_000_000 + 7), "$value": 10.0, "$currency_code": "USD"},
            "prof7",
        )
    )
    now = datetime.now(UTC)
    fake.tags = {"T1": "holiday", "T2": "sale", "T3": "unused"}
    fake.campaigns["C1"] = Campaign(
        "C1",
        "Autumn sale",
        "email",
        now - timedelta(days=3),
        tag_ids=["T2", "T1"],
        messages={
            "M1": {
                "name": "Autumn email",
                "stats": {
                    "recipients": 1000,
                    "delivered": 980,
                    "opens_unique": 400,
                    "open_rate": 0.408163,
                    "click_rate": 0.1,
                    "conversion_value": 1234.5,
                },
            }
        },
    )
    for day in range(3):
        fake.flow_days.append(
            {
                "flow_id": "F1",
                "flow_message_id": "FM1",
                "flow_name": "Welcome",
                "flow_message_name": "Email 1",
                "send_channel": "email",
                "date": (now - timedelta(days=day)).date(),
                "stats": {"recipients": 10 + day, "open_rate": 0.5},
            }
        )
    fake.forms["FORM1"] = "Newsletter popup"
    fake.form_days.append(
        {
            "form_id": "FORM1",
            "date": now.date(),
            "stats": {"viewed_form": 300, "submits": 30, "submit_rate": 0.1},
        }
    )
    fake.segments["SEG1"] = "VIPs"
    fake.segment_days.append(
        {"segment_id": "SEG1", "date": now.date(), "stats": {"total_members": 77, "members_added": 5}}
    )
    with fake.serve():
        yield fake
    # Every request the sync sent is one the provider's published API document accepts, and
    # every answer it read (events, campaigns) has the document's shape.
    assert fake.refusals == [], fake.refusals
    assert fake.invalid_replies == [], fake.invalid_replies[:5]


def connect(harness: SyncHarness, fake: FakeKlaviyo, key: str = KEY) -> None:
    harness.connect("klaviyo", {"api_key": key}, fake.base_url)


def placed_totals(fake: FakeKlaviyo) -> tuple[int, Decimal, int]:
    events = fake.events("PLACED")
    amount = sum((Decimal(repr(e.properties["$value"])) for e in events), Decimal(0))
    lines = sum(len(e.properties["$extra"]["line_items"]) for e in events)
    return len(events), amount, lines


def stored_orders(harness: SyncHarness) -> tuple[int, Decimal, int]:
    count, amount = harness.rows(
        f"SELECT count(), sum(amount) FROM orders FINAL WHERE site_id = '{SITE}' AND source = 'shopify'"
    )[0]
    lines = harness.scalar(
        f"SELECT count() FROM order_line_items FINAL WHERE site_id = '{SITE}' AND source = 'shopify'"
    )
    return int(count), Decimal(amount), int(lines)


def test_full_sync_equals_the_fakes_data(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    connect(harness, klaviyo)
    report = run_sync(harness.env, SITE, "klaviyo")
    assert report.complete, report.summary()
    assert stored_orders(harness) == placed_totals(klaviyo)
    # Shopify-origin orders use the Shopify order id, marked as coming from Klaviyo.
    first = harness.rows(
        f"SELECT order_id, source_event, currency, customer_id_type FROM orders FINAL "
        f"WHERE order_id = '{5_000_000_000}'"
    )
    assert first == [("5000000000", "klaviyo:Placed Order", "USD", "klaviyo_profile")]
    # The API-integration order keeps Klaviyo as its source, with line items from `Items`.
    assert harness.rows("SELECT amount, item_count FROM orders FINAL WHERE source = 'klaviyo'") == [
        (Decimal("59.97"), 3)
    ]
    assert harness.rows(
        "SELECT sku, quantity, line_total FROM order_line_items FINAL WHERE source = 'klaviyo'"
    ) == [("S1", 3, Decimal("59.97"))]
    assert harness.rows("SELECT kind, amount, payment_id FROM refunds FINAL") == [
        ("cumulative", Decimal("10"), str(5_000_000_007))
    ]
    # Profiles: customers, links to their email hashes, people.
    assert harness.scalar("SELECT count() FROM integration_customers FINAL WHERE source = 'klaviyo'") == 40
    assert harness.scalar("SELECT email FROM integration_customers FINAL WHERE customer_id = 'prof3'") == (
        "buyer3@example.com"
    )
    links = "SELECT count() FROM identity_links FINAL WHERE from_type = 'email_sha256' AND to_type = '{}'"
    assert harness.scalar(links.format("klaviyo_profile")) == 40
    assert harness.scalar("SELECT count() FROM people FINAL") == 40
    # Statistics, rates as percentages.
    assert harness.rows(
        "SELECT campaign_name, message_name, recipients, open_rate_pct, conversion_value, tags "
        "FROM campaign_statistics FINAL"
    ) == [("Autumn sale", "Autumn email", 1000.0, 40.8163, 1234.5, ["holiday", "sale"])]
    # Klaviyo's credit of each Placed Order: flows told from campaigns, the rest credited to none.
    assert harness.rows(
        "SELECT attributed_kind, count(), groupArray(if(flow_id != '', flow_id, campaign_id)) "
        "FROM (SELECT * FROM klaviyo_attributions FINAL ORDER BY order_id) "
        "GROUP BY attributed_kind ORDER BY 1"
    ) == [("", 1198, [""] * 1198), ("campaign", 1, ["C1"]), ("flow", 2, ["F1", "F1"])]
    flows = harness.rows("SELECT date, recipients, open_rate_pct FROM flow_statistics FINAL ORDER BY date")
    assert [r[1:] for r in flows[-3:]] == [(12.0, 50.0), (11.0, 50.0), (10.0, 50.0)]
    assert harness.rows(
        "SELECT form_name, viewed_form, submit_rate_pct FROM form_statistics FINAL WHERE viewed_form > 0"
    ) == [("Newsletter popup", 300.0, 10.0)]
    assert harness.rows(
        "SELECT segment_name, total_members, new_members FROM segment_statistics FINAL "
        "WHERE total_members > 0"
    ) == [("VIPs", 77, 5)]
    status = harness.env.integrations.get(SITE, "klaviyo")
    assert status is not None and status.status == "ok"


def test_incremental_run_fetches_only_changes_and_converges(
    harness: SyncHarness, klaviyo: FakeKlaviyo
) -> None:
    connect(harness, klaviyo)
    run_sync(harness.env, SITE, "klaviyo")
    first_calls = len(klaviyo.calls)
    add_orders(klaviyo, 30, start=START + timedelta(minutes=1200), id_offset=6_000_000_000)
    klaviyo.add_profile("prof3", "new-address@example.com", datetime.now(UTC), first_name="Renamed")
    report = run_sync(harness.env, SITE, "klaviyo")
    assert report.complete
    fetched = report.streams["placed_order:PLACED"].records
    # Only the new orders and the 2-hour overlap before the watermark (120 one-minute orders).
    assert 30 <= fetched <= 30 + 121
    assert report.streams["profiles"].records <= 3
    # Statistics are not re-queried within their refresh interval.
    assert report.streams["campaign_statistics"].status == "skipped"
    assert not any("reports" in r.path for r in klaviyo.calls[first_calls:])
    assert stored_orders(harness) == placed_totals(klaviyo)
    assert harness.scalar("SELECT email FROM integration_customers FINAL WHERE customer_id = 'prof3'") == (
        "new-address@example.com"
    )


def test_rate_limits_and_server_errors_lose_nothing(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    klaviyo.faults.rate_limit_every = 3
    klaviyo.faults.retry_after = "2"
    klaviyo.faults.error_every = 7
    connect(harness, klaviyo)
    report = run_sync(harness.env, SITE, "klaviyo")
    assert report.complete, report.summary()
    assert stored_orders(harness) == placed_totals(klaviyo)
    assert 2.0 in harness.sleeps  # Retry-After honoured
    assert any(0 < s < 2.0 for s in harness.sleeps)  # backoff after the 500s


def test_page_changing_between_calls_converges(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    """Events arrive while the sync pages through Placed Order: one behind its cursor (late, in
    the past), one ahead of it. The cursor is positional, so nothing shifts: the run stores the
    one ahead; the one behind is older than the next run's overlap, so a `--since` re-read
    catches it (a late event within the overlap needs nothing: see the next test)."""

    def arrive(call: int) -> None:
        if call == 3:  # after page 1 (minutes 0-999) was served, before page 2
            add_orders(klaviyo, 1, start=START + timedelta(minutes=990, seconds=30), id_offset=7_000_000_000)
            add_orders(klaviyo, 1, start=START + timedelta(minutes=5000), id_offset=8_000_000_000)

    klaviyo.between_calls = arrive
    connect(harness, klaviyo)
    run_sync(harness.env, SITE, "klaviyo")
    klaviyo.between_calls = None
    stored = {r[0] for r in harness.rows("SELECT order_id FROM orders FINAL")}
    assert "8000000000" in stored and "7000000000" not in stored
    assert stored_orders(harness)[0] == len(klaviyo.events("PLACED")) - 1
    run_sync(harness.env, SITE, "klaviyo", since=START + timedelta(hours=16))
    assert stored_orders(harness) == placed_totals(klaviyo)


def test_overlap_catches_events_that_become_visible_late(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    connect(harness, klaviyo)
    run_sync(harness.env, SITE, "klaviyo")
    watermark = harness.env.state.load(SITE, "klaviyo")["placed_order:PLACED"].watermark
    assert watermark == START + timedelta(minutes=1199)
    add_orders(klaviyo, 1, start=watermark - timedelta(minutes=30), id_offset=7_000_000_000)
    run_sync(harness.env, SITE, "klaviyo")
    assert stored_orders(harness) == placed_totals(klaviyo)


def test_crash_after_an_insert_then_rerun_loses_and_duplicates_nothing(
    harness: SyncHarness, klaviyo: FakeKlaviyo
) -> None:
    add_orders(klaviyo, 1800, start=START + timedelta(days=2), id_offset=6_000_000_000)
    connect(harness, klaviyo)
    # Pages of 1000 events; each page is one flush of two inserts (orders, line items). The 4th
    # insert is page 2's line items: page 1 is checkpointed, page 2 is in ClickHouse but not.
    real = harness.env.sink
    harness.env.sink = FailingSink(real, fail_on=4)
    with pytest.raises(ConnectionError):
        run_sync(harness.env, SITE, "klaviyo")
    assert stored_orders(harness)[0] == 2000
    state = harness.env.state.load(SITE, "klaviyo")["placed_order:PLACED"]
    assert state.watermark is not None  # earlier batches were checkpointed
    harness.env.sink = real
    assert run_sync(harness.env, SITE, "klaviyo").complete
    assert stored_orders(harness) == placed_totals(klaviyo)
    duplicates = harness.scalar(
        "SELECT count() - uniqExact(order_id) FROM orders FINAL WHERE source = 'shopify'"
    )
    assert duplicates == 0


def test_revoked_key_marks_the_integration_failing_and_keeps_the_watermark(
    harness: SyncHarness, klaviyo: FakeKlaviyo
) -> None:
    connect(harness, klaviyo)
    run_sync(harness.env, SITE, "klaviyo")
    before = watermarks(harness, "klaviyo")
    klaviyo.api_key = "pk_rotated"
    add_orders(klaviyo, 10, start=START + timedelta(days=5), id_offset=9_000_000_000)
    report = run_sync(harness.env, SITE, "klaviyo")
    assert "refused the credentials (HTTP 401)" in report.error
    integration = harness.env.integrations.get(SITE, "klaviyo")
    assert integration is not None and integration.status == "failing"
    assert "Missing or invalid private key" in integration.message
    assert "touchline integrations add klaviyo" in integration.message
    assert watermarks(harness, "klaviyo") == before  # a failed attempt is recorded, nothing moved


def test_out_of_time_stops_cleanly_and_the_next_run_resumes(
    harness: SyncHarness, klaviyo: FakeKlaviyo
) -> None:
    connect(harness, klaviyo)
    budget = iter(range(6, -1, -1))  # the deadline passes after a few checks
    report = run_sync(harness.env, SITE, "klaviyo", deadline=Deadline(lambda: float(next(budget, -1))))
    assert report.stopped and not report.error
    count, _, _ = stored_orders(harness)
    assert 0 < count < len(klaviyo.events("PLACED"))
    integration = harness.env.integrations.get(SITE, "klaviyo")
    assert integration is not None and integration.status == "ok" and "resumes" in integration.message
    assert run_sync(harness.env, SITE, "klaviyo").complete
    assert stored_orders(harness) == placed_totals(klaviyo)


def test_statistics_dates_and_windows(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    connect(harness, klaviyo)
    run_sync(harness.env, SITE, "klaviyo")
    sent = klaviyo.campaigns["C1"].sent_at.date()
    assert harness.scalar("SELECT date FROM campaign_statistics FINAL") == sent
    requests = [r.json() for r in klaviyo.served if r.path.startswith("/api/flow-series")]
    frame = requests[0]["data"]["attributes"]["timeframe"]
    days = (datetime.fromisoformat(frame["end"]) - datetime.fromisoformat(frame["start"])).days
    assert days <= 60 and isinstance(sent, date)
