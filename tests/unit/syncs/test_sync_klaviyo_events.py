"""Klaviyo order events → revenue rows: origins, cancellations, refunds, unusable events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow
from touchline.syncs.providers.klaviyo.api import KlaviyoApi
from touchline.syncs.providers.klaviyo.events import Metric, OrderEventStream
from touchline.syncs.rows import KlaviyoAttributionRow
from touchline.syncs.state import StreamState

AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


class Pages(KlaviyoApi):
    def __init__(self, *pages: dict[str, Any]) -> None:
        self._pages = pages
        self.params: dict[str, Any] | None = None

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        self.params = params
        yield from self._pages


def event(event_id: str, props: dict[str, Any], at: str = "2026-03-04T05:06:07+00:00") -> dict[str, Any]:
    return {
        "type": "event",
        "id": event_id,
        "attributes": {"datetime": at, "event_properties": props},
        "relationships": {"profile": {"data": {"type": "profile", "id": "P1"}}},
    }


def rows(
    metric: Metric,
    *events: dict[str, Any],
    state: StreamState | None = None,
    included: list[dict[str, Any]] | None = None,
) -> tuple[list[Any], Pages]:
    api = Pages(
        {
            "data": list(events),
            "included": [
                {"type": "profile", "id": "P1", "attributes": {"email": "A@B.co"}},
                *(included or []),
            ],
        }
    )
    stream = OrderEventStream("site", api, metric, "EUR")
    batches = list(stream.batches(state or StreamState()))
    return [row for batch in batches for _, row in batch.rows] + [s for b in batches for s in b.skipped], api


def test_api_origin_order_with_documented_items() -> None:
    props = {
        "$event_id": "A-1",
        "$value": 59.970000000000006,
        "Items": [{"ProductID": "p", "SKU": "S", "ProductName": "Mug", "Quantity": 3, "ItemPrice": 19.99}],
    }
    found, api = rows(Metric("M", "Placed Order", "api"), event("e1", props))
    order, attribution, line = found
    assert isinstance(order, OrderRow) and isinstance(line, OrderLineItemRow)
    assert isinstance(attribution, KlaviyoAttributionRow) and attribution.attributed_kind == ""
    assert (order.source, order.order_id, order.amount, order.currency) == (
        "klaviyo",
        "A-1",
        Decimal("59.97"),
        "EUR",
    )
    assert order.email_sha256 and order.customer_id == "P1" and order.item_count == 3
    assert (line.line_item_id, line.line_total, line.unit_price) == ("1", Decimal("59.97"), Decimal("19.99"))
    assert api.params == {
        "filter": 'equals(metric_id,"M")',
        "sort": "datetime",
        "page[size]": 1000,
        "include": "profile,attributions",
        "fields[profile]": "email",
    }


def test_incremental_filter_starts_two_hours_before_the_watermark() -> None:
    _, api = rows(Metric("M", "Placed Order", "api"), state=StreamState(watermark=AT))
    assert api.params is not None
    assert (
        api.params["filter"] == 'and(equals(metric_id,"M"),greater-or-equal(datetime,2026-03-04T03:06:07Z))'
    )


def test_a_cancellation_replaces_the_order_it_cancels() -> None:
    placed, _ = rows(Metric("M", "Placed Order", "api"), event("e1", {"$event_id": "A-1", "$value": 10}))
    cancelled, _ = rows(
        Metric("C", "Cancelled Order", "api"),
        event("e2", {"$event_id": "A-1", "$value": 10}, at="2026-03-05T00:00:00+00:00"),
    )
    assert cancelled[0].cancelled == 1 and cancelled[0].order_id == placed[0].order_id
    assert cancelled[0].version > placed[0].version


def test_shopify_origin_orders_stay_below_shopifys_versions_and_need_line_ids() -> None:
    props = {"$event_id": "4400", "$value": 20, "$currency_code": "usd", "Items": [{"SKU": "no-line-id"}]}
    found, _ = rows(Metric("S", "Placed Order", "shopify"), event("e1", props))
    # Items without Shopify line ids are left to Shopify's own line items
    assert [type(r) for r in found] == [OrderRow, KlaviyoAttributionRow]
    order = found[0]
    assert (order.source, order.order_id, order.currency, order.source_event) == (
        "shopify",
        "4400",
        "USD",
        "klaviyo:Placed Order",
    )
    assert order.version < int(AT.timestamp() * 1000) * 4  # Shopify's webhook versions: ms * 4 + rank


def test_refunds_of_shopify_orders_are_cumulative() -> None:
    found, _ = rows(
        Metric("R", "Refunded Order", "shopify"), event("e9", {"$event_id": "4400", "$value": 5.5})
    )
    [refund] = found
    assert isinstance(refund, RefundRow)
    assert (refund.kind, refund.refund_id, refund.payment_id, refund.amount) == (
        "cumulative",
        "klaviyo:e9",
        "4400",
        Decimal("5.5"),
    )


def test_unusable_events_are_skipped_and_reported() -> None:
    found, _ = rows(
        Metric("M", "Placed Order", "api"),
        event("bad-time", {"$value": 1}, at="not a date"),
        event("bad-amount", {"$value": "lots"}),
        event("ok", {"$value": 1}),
    )
    orders = [r for r in found if isinstance(r, OrderRow)]
    notes = [r for r in found if isinstance(r, str)]
    assert [o.order_id for o in orders] == ["ok"]
    assert len(notes) == 2 and "bad-amount" in notes[1]


def test_an_order_in_a_code_that_is_not_iso_4217_is_skipped_and_listed_not_stored_in_the_default() -> None:
    """Issue 13: "NAN" used to fall through to the account's currency (EUR) and be stored as such."""
    bad = event("e1", {"$event_id": "N-1", "$value": 10, "$currency_code": "NAN"})
    good = event("e2", {"$event_id": "G-1", "$value": 10, "$currency_code": "hrk"})  # withdrawn, still ISO
    found, _ = rows(Metric("M", "Placed Order", "api"), bad, good)
    orders = [r for r in found if isinstance(r, OrderRow)]
    assert [(o.order_id, o.currency) for o in orders] == [("G-1", "HRK")]
    assert [s for s in found if isinstance(s, str) and "NAN" in s and "ISO 4217" in s]


def attribution(attribution_id: str, kind: str, object_id: str, message_id: str) -> dict[str, Any]:
    """An included attribution as Get Events' `include=attributions` sends it (the document's
    AttributionResponseObjectResource: relationships only)."""
    return {
        "type": "attribution",
        "id": attribution_id,
        "relationships": {
            "event": {"data": {"type": "event", "id": "e"}},
            "attributed-event": {"data": {"type": "event", "id": "send"}},
            kind: {"data": {"type": kind, "id": object_id}},
            f"{kind}-message": {"data": {"type": f"{kind}-message", "id": message_id}},
        },
        "links": {"self": ""},
    }


def test_klaviyo_credits_flow_campaign_or_nothing_by_attributions_else_properties() -> None:
    def credited(props: dict[str, Any], listed: list[str]) -> dict[str, Any]:
        placed = event("e1", {"$event_id": "A-1", "$value": 10, **props})
        placed["relationships"]["attributions"] = {"data": [{"type": "attribution", "id": i} for i in listed]}
        found, _ = rows(
            Metric("M", "Placed Order", "api"),
            placed,
            included=[attribution("a1", "flow", "F1", "FM1"), attribution("a2", "campaign", "C1", "CM1")],
        )
        [row] = [r for r in found if isinstance(r, KlaviyoAttributionRow)]
        assert (row.source, row.order_id, row.event_id) == ("klaviyo", "A-1", "e1")
        return row.model_dump(
            include={"attributed_kind", "campaign_id", "campaign_message_id", "flow_id", "flow_message_id"}
        )

    assert credited({}, ["a1"]) == {
        "attributed_kind": "flow", "campaign_id": "", "campaign_message_id": "",
        "flow_id": "F1", "flow_message_id": "FM1",
    }  # fmt: skip
    assert credited({}, ["a2"])["attributed_kind"] == "campaign"
    assert credited({}, ["a2"])["campaign_id"] == "C1"
    assert credited({}, [])["attributed_kind"] == ""
    # No attribution listed: the event's own properties.
    assert credited({"$attributed_flow": "F9", "$attributed_message": "M9"}, [])["flow_id"] == "F9"
    assert credited({"$message": "C7"}, [])["attributed_kind"] == "campaign"
    # Refunds carry no attribution row.
    found, _ = rows(Metric("R", "Refunded Order", "api"), event("e9", {"$event_id": "A-1", "$value": 1}))
    assert not [r for r in found if isinstance(r, KlaviyoAttributionRow)]
