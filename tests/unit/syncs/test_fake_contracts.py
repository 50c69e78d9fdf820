"""The fakes' contracts refuse what the providers' published documents refuse, and accept what
the syncs send now (each case names the document rule)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fakes import gorgias, hubspot, shopify
from fakes.klaviyo import Campaign, Event, FakeKlaviyo, contract_problems
from fakes.server import Request

REVISION = {"revision": "2026-07-15", "authorization": "Klaviyo-API-Key pk_x"}


def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Request:
    parts = urlsplit(url)
    return Request(
        method,
        parts.path,
        parse_qs(parts.query, keep_blank_values=True),
        headers or {},
        json.dumps(body).encode() if body is not None else b"",
    )


def report(kind: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": kind, "attributes": attributes}}


TIMEFRAME = {"start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"}


@pytest.mark.parametrize(
    ("method", "url", "body", "why"),
    [
        (
            "GET",
            "/api/profiles/?filter=greater-or-equal(updated,2026-01-01T00:00:00Z)",
            None,
            "greater-or-equal(updated)",
        ),
        ("GET", "/api/profiles/?sort=datetime", None, "sort"),
        ("GET", "/api/profiles/?page[size]=101", None, "maximum"),
        ("GET", "/api/events/?filter=equals(profile_email,'x')", None, "not a filterable field"),
        ("GET", "/api/events/?page[size]=10&since=2026", None, "unknown query parameter"),
        ("GET", "/api/campaigns/", None, "filter"),  # Get Campaigns requires a channel filter
        ("GET", "/api/metrics/?page[size]=50", None, "unknown query parameter"),
        ("GET", "/api/flows/", None, "not an operation"),
        (
            "POST",
            "/api/segment-series-reports/",
            report(
                "segment-series-report",
                statistics=["total_members"],
                timeframe=TIMEFRAME,
                interval="daily",
                group_by=["segment_id"],
            ),
            "group_by",
        ),
        (
            "POST",
            "/api/form-series-reports/",
            report(
                "form-series-report", statistics=["submits_unique"], timeframe=TIMEFRAME, interval="daily"
            ),
            "submits_unique",
        ),
        (
            "POST",
            "/api/flow-series-reports/",
            report("flow-series-report", statistics=["recipients"], timeframe=TIMEFRAME, interval="daily"),
            "conversion_metric_id",
        ),
    ],
)
def test_klaviyo_refuses_what_its_document_refuses(method: str, url: str, body: Any, why: str) -> None:
    problems = contract_problems(request(method, url, body, REVISION))
    assert any(why in p for p in problems), problems


def test_klaviyo_accepts_what_the_sync_sends() -> None:
    for url in [
        "/api/profiles/?sort=updated&page[size]=100&filter=greater-than(updated,2026-01-01T00:00:00Z)",
        '/api/events/?filter=and(equals(metric_id,"X"),greater-or-equal(datetime,2026-01-01T00:00:00Z))'
        "&sort=datetime&page[size]=1000&include=profile,attributions&fields[profile]=email",
        "/api/campaigns/?filter=and(equals(messages.channel,'email'),greater-or-equal(updated_at,2026-01-01T00:00:00+00:00))"
        "&fields[campaign]=name,send_time,updated_at&include=tags&fields[tag]=name",
        "/api/campaigns/C1/?include=tags&fields[tag]=name",
        "/api/metrics/",
        "/api/forms/?fields[form]=name",
        "/api/segments/?fields[segment]=name",
    ]:
        assert contract_problems(request("GET", url, None, REVISION)) == [], url
    body = report(
        "segment-series-report",
        statistics=["total_members", "members_added"],
        timeframe=TIMEFRAME,
        interval="daily",
    )
    assert contract_problems(request("POST", "/api/segment-series-reports/", body, REVISION)) == []
    assert any("revision" in p for p in contract_problems(request("GET", "/api/metrics/", None, {})))


def test_klaviyo_answers_are_the_documents_shapes() -> None:
    """Tags, attributions, a 429 and a 400 as the fake answers them validate against the
    responses of Klaviyo's document (klaviyo-2026-07-15-responses.json); a wrong shape does not."""
    fake = FakeKlaviyo(api_key="pk_x")
    fake.add_metric("PLACED", "Placed Order")
    fake.add_event(
        Event("e1", "PLACED", datetime(2026, 9, 1, tzinfo=UTC), {"$value": 5}, "p1", ("flow", "F1", "FM1"))
    )
    fake.add_event(Event("e2", "PLACED", datetime(2026, 9, 2, tzinfo=UTC), {"$value": 6}, "p1"))
    fake.tags = {"T1": "holiday", "T2": "sale"}
    fake.campaigns["C1"] = Campaign(
        "C1", "Sale", "email", datetime(2026, 9, 1, tzinfo=UTC), tag_ids=["T2", "T1"]
    )
    events = fake.handle(
        request(
            "GET",
            '/api/events/?filter=equals(metric_id,"PLACED")&include=profile,attributions',
            None,
            REVISION,
        )
    )
    assert events is not None and events.status == 200
    assert [(r["type"], r["id"]) for r in events.body["included"]] == [("attribution", "attr-e1")]
    assert events.body["included"][0]["relationships"]["flow"]["data"] == {"type": "flow", "id": "F1"}
    assert [e["relationships"]["attributions"]["data"] for e in events.body["data"]] == [
        [{"type": "attribution", "id": "attr-e1"}],
        [],
    ]
    listed = fake.handle(
        request(
            "GET",
            "/api/campaigns/?filter=equals(messages.channel,'email')&include=tags&fields[tag]=name",
            None,
            REVISION,
        )
    )
    assert listed is not None
    assert [t["attributes"]["name"] for t in listed.body["included"]] == ["holiday", "sale"]
    one = fake.handle(request("GET", "/api/campaigns/C1/?include=tags", None, REVISION))
    assert one is not None and one.body["data"]["relationships"]["tags"]["data"][0]["id"] == "T1"
    fake.faults.rate_limit_every = 1
    throttled = fake.handle(request("GET", "/api/campaigns/C1/", None, REVISION))
    assert throttled is not None and throttled.status == 429 and throttled.headers["Retry-After"]
    fake.faults.rate_limit_every = 0
    refused = fake.handle(request("GET", "/api/events/?page[size]=5000", None, REVISION))
    assert refused is not None and refused.status == 400
    assert fake.invalid_replies == []
    from fakes.klaviyo import RESPONSES

    wrong = {"data": [{"type": "campaign", "id": "C1"}], "included": [{"type": "tag", "id": "T1"}]}
    assert RESPONSES.response_problems("GET", "/api/campaigns/", 200, wrong)


def test_hubspot_search_contract() -> None:
    good = {
        "filterGroups": [
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1"}]}
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email"],
        "limit": 100,
    }
    path = "/crm/v3/objects/contacts/search"
    assert hubspot.CONTRACT.problems(request("POST", path, good)) == []
    assert hubspot.CONTRACT.problems(request("POST", path, {})) == []  # the guide's empty search
    for bad, why in [
        ({**good, "limit": 201}, "maximum"),
        (
            {
                **good,
                "filterGroups": [{"filters": [{"propertyName": "x", "operator": "AFTER", "value": "1"}]}],
            },
            "AFTER",
        ),
        ({**good, "sort": "lastmodifieddate"}, "'sort' is not a property"),
        ({**good, "sorts": [{"direction": "ASCENDING"}]}, "sorts"),
    ]:
        assert any(why in p for p in hubspot.CONTRACT.problems(request("POST", path, bad))), bad
    batch = "/crm/v4/associations/deals/contacts/batch/read"
    assert hubspot.CONTRACT.problems(request("POST", batch, {"inputs": [{"id": "1"}]})) == []
    assert hubspot.CONTRACT.problems(request("POST", batch, {"ids": ["1"]}))


def test_shopify_and_gorgias_references() -> None:
    token = {"x-shopify-access-token": "shpat"}
    orders = "/admin/api/2025-07/orders.json"
    assert (
        shopify.CONTRACT.problems(
            request("GET", f"{orders}?limit=250&status=any&updated_at_min=x", None, token)
        )
        == []
    )
    assert shopify.CONTRACT.problems(request("GET", f"{orders}?limit=251", None, token))
    assert shopify.CONTRACT.problems(request("GET", f"{orders}?status=all", None, token))
    assert shopify.CONTRACT.problems(request("GET", f"{orders}?order=updated_at", None, token))
    assert shopify.CONTRACT.problems(request("GET", orders, None, {}))
    basic = {"authorization": "Basic eA=="}
    tickets = "/api/tickets"
    assert (
        gorgias.CONTRACT.problems(
            request("GET", f"{tickets}?limit=100&order_by=updated_datetime:desc", None, basic)
        )
        == []
    )
    assert gorgias.CONTRACT.problems(request("GET", f"{tickets}?limit=101", None, basic))
    assert gorgias.CONTRACT.problems(request("GET", f"{tickets}?order_by=updated_at:desc", None, basic))
    surveys = "/api/satisfaction-surveys?order_by=updated_datetime:desc"
    assert gorgias.CONTRACT.problems(request("GET", surveys, None, basic))
