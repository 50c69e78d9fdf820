"""What each call type becomes: events columns, identity links, people rows, revenue rows."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from touchline.identity.rows import email_sha256
from touchline.tracking.ids import EVENT_ID_NAMESPACE, event_id

from .conftest import DOMAIN, SITE, Harness

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def links(h: Harness) -> set[tuple[str, str, str, str, str]]:
    return {
        (r["from_type"], r["from_id"], r["to_type"], r["to_id"], r["source"])
        for r in h.rows("identity_links")
    }


def test_track_is_a_goal_with_flattened_properties(harness: Harness) -> None:
    harness.post(
        "track",
        {
            "event": "Signed Up",
            "userId": 42,
            "anonymousId": "anon-1",
            "properties": {"plan": "pro", "seats": 3, "trial": True, "ratio": 0.5, "tags": ["a"], "x": None},
        },
    )
    [event] = harness.events()
    assert (event.event_type, event.name, event.ingest_source) == ("goal", "Signed Up", "api")
    assert (event.visitor_id, event.user_id) == ("anon-1", "42")
    assert event.props == {"plan": "pro", "seats": "3", "trial": "true", "ratio": "0.5", "tags": '["a"]'}
    assert event.revenue is None
    # A call carrying both ids links them, like Segment's identity resolution.
    assert links(harness) == {("anonymous", "anon-1", "user", "42", "track")}


def test_server_call_without_context_invents_no_device_or_channel(harness: Harness) -> None:
    harness.post("track", {"event": "Renewed", "userId": "u1"})
    [event] = harness.events()
    assert (event.device_type, event.browser, event.channel, event.country) == ("", "", "", "")
    assert (event.hostname, event.pathname, event.url) == ("", "", "")
    assert event.visitor_id == "u1"  # no anonymousId: the user id, never an IP/UA hash


def test_relayed_browser_context_is_enriched_like_a_hit(harness: Harness) -> None:
    harness.post(
        "page",
        {
            "anonymousId": "a1",
            "name": "Pricing",
            "category": "Docs",
            "properties": {"title": "Pricing - Shop"},
            "context": {
                "ip": "81.2.69.160",
                "userAgent": CHROME,
                "page": {
                    "url": f"https://{DOMAIN}/pricing?gclid=abc",
                    "referrer": "https://www.google.com/",
                },
                "campaign": {"name": "black-friday", "source": "newsletter", "medium": "email"},
                "screen": {"width": 1440},
            },
        },
    )
    [event] = harness.events()
    assert (event.event_type, event.name) == ("pageview", "pageview")
    assert (event.hostname, event.pathname, event.page_title) == (DOMAIN, "/pricing", "Pricing - Shop")
    assert event.url == f"https://{DOMAIN}/pricing?gclid=abc"  # stored as sent
    assert (event.utm_source, event.utm_medium, event.utm_campaign) == ("newsletter", "email", "black-friday")
    assert (event.click_id, event.click_id_type) == ("abc", "gclid")
    assert event.channel and event.referrer_source
    assert (event.browser, event.os, event.device_type, event.country) == (
        "Chrome",
        "Windows",
        "desktop",
        "GB",
    )
    assert event.screen_width == 1440
    assert event.props["page_name"] == "Pricing" and event.props["page_category"] == "Docs"


def test_page_from_a_bot_is_dropped_but_a_purchase_is_kept(harness: Harness) -> None:
    bot = {"userAgent": BOT, "page": {"url": f"https://{DOMAIN}/"}}
    result = harness.post(
        "batch",
        {
            "batch": [
                {"type": "page", "anonymousId": "a1", "context": bot},
                {
                    "type": "track",
                    "event": "Order Completed",
                    "anonymousId": "a1",
                    "properties": {"order_id": "o-1", "total": 10},
                    "context": bot,
                },
            ]
        },
    )
    assert (result.accepted, result.dropped) == (1, 1)
    [event] = harness.events()
    assert event.event_type == "purchase" and event.browser == ""
    assert len(harness.rows("orders")) == 1


def test_screen_group_alias_identify(harness: Harness) -> None:
    harness.post(
        "batch",
        {
            "batch": [
                {"type": "screen", "userId": "u1", "name": "Home", "properties": {"tab": "feed"}},
                {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"employees": 50}},
                {"type": "alias", "userId": "u1", "previousId": "anon-old"},
                {
                    "type": "identify",
                    "userId": "u1",
                    "anonymousId": "anon-new",
                    "traits": {"email": " Ada@Example.COM ", "plan": "pro"},
                    "context": {"externalIds": [{"id": "cus_1", "type": "stripe_customer_id"}]},
                },
            ]
        },
    )
    screen, group, alias, identify = harness.events()
    assert (screen.event_type, screen.name, screen.props) == ("screen", "Home", {"tab": "feed"})
    assert (group.event_type, group.props) == ("group", {"employees": "50", "group_id": "acme"})
    assert (alias.event_type, alias.props, alias.visitor_id) == ("alias", {"previous_id": "anon-old"}, "u1")
    assert (identify.event_type, identify.props) == ("identify", {})  # traits stay out of events
    hashed = email_sha256("ada@example.com")
    assert links(harness) == {
        ("anonymous", "anon-old", "user", "u1", "alias"),
        ("anonymous", "anon-new", "user", "u1", "identify"),
        ("email_sha256", hashed, "user", "u1", "identify"),
        ("stripe_customer", "cus_1", "user", "u1", "identify"),
    }
    [person] = harness.rows("people")
    assert person["person_id"] == "user:u1" and person["email"] == "ada@example.com"
    assert person["email_sha256"] == hashed
    assert json.loads(person["traits"]) == {"email": " Ada@Example.COM ", "plan": "pro"}


def test_anonymous_identify_is_a_visitor_person(harness: Harness) -> None:
    harness.post("identify", {"anonymousId": "a1", "traits": {"newsletter": True}})
    [person] = harness.rows("people")
    assert person["person_id"] == "visitor:a1" and "user_id" not in person


def order_completed(**properties: Any) -> dict[str, Any]:
    return {
        "event": "Order Completed",
        "anonymousId": "a1",
        "userId": "u1",
        "messageId": "order-msg",
        "properties": properties,
    }


def test_order_completed_becomes_an_order_with_line_items(harness: Harness) -> None:
    harness.post(
        "track",
        order_completed(
            order_id="50314b8e",
            total=27.50,
            subtotal=22.5,
            shipping=3,
            tax=2,
            discount=2.5,
            coupon="hasbros",
            currency="eur",
            products=[
                {"product_id": "507f1f77", "sku": "45790-32", "name": "Monopoly", "price": 19, "quantity": 1},
                {"product_id": "505bd76785", "name": "Uno", "price": 3.5, "quantity": 2},
            ],
        ),
    )
    [event] = harness.events()
    assert (event.event_type, event.revenue, event.currency) == ("purchase", Decimal("27.50"), "EUR")
    [order] = harness.rows("orders")
    assert order["source"] == "api" and order["order_id"] == order["payment_id"] == "50314b8e"
    assert (order["amount"], order["currency"], order["status"]) == ("27.50", "EUR", "paid")
    assert (order["subtotal"], order["tax_amount"], order["shipping_amount"]) == ("22.50", "2.00", "3.00")
    assert (order["discount_amount"], order["discount_code"], order["item_count"]) == ("2.50", "hasbros", 3)
    assert (order["visitor_id"], order["customer_id_type"], order["customer_id"]) == ("a1", "user", "u1")
    items = {i["line_item_id"]: i for i in harness.rows("order_line_items")}
    assert items["505bd76785"]["line_total"] == "7.00" and items["507f1f77"]["sku"] == "45790-32"


def test_order_total_falls_back_to_revenue_plus_shipping_and_tax(harness: Harness) -> None:
    harness.post("track", order_completed(order_id="o2", revenue="100", shipping=5, tax=1.234))
    [order] = harness.rows("orders")
    assert (order["amount"], order["currency"]) == ("106.23", "USD")


def test_order_without_order_id_is_rejected_not_counted(harness: Harness) -> None:
    result = harness.post(
        "batch",
        {
            "batch": [
                {"type": "track", **order_completed(total=5)},
                {"type": "track", "event": "Signed Up", "userId": "u1"},
            ]
        },
    )
    assert [r["code"] for r in result.rejected] == ["invalid_order"]
    assert harness.rows("orders") == []


def test_order_refunded_becomes_a_refund_keyed_by_message(harness: Harness) -> None:
    call = {
        "event": "Order Refunded",
        "userId": "u1",
        "messageId": "refund-1",
        "properties": {"order_id": "o9", "total": 30, "currency": "JPY"},
    }
    harness.post("track", call)
    harness.post("track", call)
    first, second = harness.rows("refunds")
    assert first == second  # a redelivery is the same refund
    assert (first["order_id"], first["amount"], first["currency"]) == ("o9", "30", "JPY")
    assert first["refund_id"] == "o9:refund-1"
    assert harness.events()[0].event_type == "refund"


def test_generic_revenue_property_sets_event_revenue(harness: Harness) -> None:
    harness.post("track", {"event": "Upgraded", "userId": "u1", "properties": {"revenue": 9.99}})
    [event] = harness.events()
    assert (event.revenue, event.currency, event.event_type) == (Decimal("9.99"), "USD", "goal")
    assert harness.rows("orders") == []


def test_product_events_stay_events(harness: Harness) -> None:
    harness.post(
        "track",
        {"event": "Product Viewed", "anonymousId": "a1", "properties": {"product_id": "p1", "price": 3}},
    )
    [event] = harness.events()
    assert (event.event_type, event.props["product_id"]) == ("goal", "p1")
    assert {e["kind"] for e in map(json.loads, harness.queue.bodies)} == {"events"}
    assert event.site_id == SITE


@given(site_id=st.text(min_size=1, max_size=64), message_id=st.text(min_size=1, max_size=100))
def test_event_ids_are_the_uuid5_of_site_and_message_id(site_id: str, message_id: str) -> None:
    expected = uuid.uuid5(EVENT_ID_NAMESPACE, f"{site_id}/{message_id}")
    assert event_id(site_id, message_id) == str(expected)
    assert (expected.version, expected.variant) == (5, uuid.RFC_4122)
