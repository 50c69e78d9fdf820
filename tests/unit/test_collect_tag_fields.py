"""The tag's additions to the Plausible body: visitor id format, user id, identify → links."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from unittest.mock import ANY

import pytest

from touchline.config.sites import Site
from touchline.identity.rows import IdentityLinkRow, email_sha256
from touchline.ingest.collect import CollectError, Collector, IncomingHit
from touchline.ingest.enrich import UrlEnricher
from touchline.ingest.queue import ListQueue
from touchline.ingest.rows import EventRow
from touchline.ingest.site_cache import SiteResolver

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
VID = "Zk3vQ1x9_a-B7cD2eF4gHw"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


SITES = {"shop.example.com": "site1", "blog.example.com": "site2"}


class Sites:
    def by_domain(self, domain: str) -> Site | None:
        return Site(SITES[domain], domain, "") if domain in SITES else None


def collect(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    queue = ListQueue()
    collector = Collector(SiteResolver(Sites()), queue, UrlEnricher(), clock=lambda: NOW)
    collector.collect(IncomingHit(json.dumps(body).encode(), UA, "203.0.113.7"))
    return [(e["kind"], e["row"]) for e in map(json.loads, queue.bodies)]


def hit(**fields: Any) -> dict[str, Any]:
    return {"n": "pageview", "u": "https://shop.example.com/", "d": "shop.example.com", **fields}


def rejected(body: dict[str, Any]) -> CollectError:
    with pytest.raises(CollectError) as caught:
        collect(body)
    return caught.value


def test_the_tags_visitor_id_is_the_rows() -> None:
    [(kind, row)] = collect(hit(vid=VID))
    assert kind == "events" and row["visitor_id"] == VID


@pytest.mark.parametrize(
    "vid", ["short", "x" * 65, "has space in it 1234", 'quote"d-visitor-id12', "ünïcode-visitor-id-12"]
)
def test_a_malformed_visitor_id_is_a_400(vid: str) -> None:
    error = rejected(hit(vid=vid))
    assert (error.status, error.code) == (400, "invalid_event")
    assert error.details == [{"field": "vid", "message": ANY}]
    assert "visitor id must be 16-64 characters" in error.message


def test_a_uuid_is_an_acceptable_visitor_id() -> None:
    uuid = "4c8c0b4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e"
    assert collect(hit(vid=uuid))[0][1]["visitor_id"] == uuid


def test_a_user_id_from_an_earlier_identify_lands_in_user_id() -> None:
    [(_, row)] = collect(hit(vid=VID, uid="cus_42"))
    assert row["user_id"] == "cus_42"


def test_identify_links_visitor_user_and_email() -> None:
    digest = email_sha256(" Ada@Example.com ")
    envelopes = collect(hit(n="identify", vid=VID, uid="user-7", eh=digest.upper(), i=False))
    kinds = [kind for kind, _ in envelopes]
    assert kinds == ["events", "identity_links", "identity_links", "identity_links"]
    event = EventRow.model_validate(envelopes[0][1])
    assert (event.event_type, event.name, event.user_id, event.interactive) == (
        "identify",
        "identify",
        "user-7",
        0,
    )
    links = {
        (link.from_type, link.from_id, link.to_type, link.to_id)
        for link in (IdentityLinkRow.model_validate(row) for _, row in envelopes[1:])
    }
    assert links == {
        ("email_sha256", digest, "visitor", VID),
        ("user", "user-7", "visitor", VID),
        ("email_sha256", digest, "user", "user-7"),
    }
    assert all(row["source"] == "tag" and row["site_id"] == "site1" for _, row in envelopes[1:])


def test_identify_with_only_a_user_id_is_one_link() -> None:
    envelopes = collect(hit(n="identify", vid=VID, uid="user-7"))
    assert [kind for kind, _ in envelopes] == ["events", "identity_links"]
    link = IdentityLinkRow.model_validate(envelopes[1][1])
    assert (link.from_type, link.to_type, link.linked_at) == ("user", "visitor", NOW)


def test_identify_to_two_sites_links_in_each() -> None:
    envelopes = collect(hit(n="identify", d="shop.example.com,blog.example.com", vid=VID, uid="u1"))
    sites = [(kind, row["site_id"]) for kind, row in envelopes]
    assert sites == [
        ("events", "site1"),
        ("identity_links", "site1"),
        ("events", "site2"),
        ("identity_links", "site2"),
    ]


def test_identify_naming_nobody_is_a_400_and_nothing_is_queued() -> None:
    error = rejected(hit(n="identify", vid=VID))
    assert error.status == 400 and "identify" in error.message


@pytest.mark.parametrize("eh", ["abc", "g" * 64, hashlib.sha1(b"a").hexdigest()])
def test_an_email_hash_that_is_not_sha256_hex_is_a_400(eh: str) -> None:
    error = rejected(hit(n="identify", vid=VID, eh=eh))
    assert error.status == 400 and "email hash must be the 64 hex digits" in error.message


def test_a_user_id_longer_than_the_link_column_allows_is_a_400() -> None:
    assert rejected(hit(uid="u" * 257)).status == 400


def test_hash_routing_keeps_the_fragment_in_the_path() -> None:
    [(_, row)] = collect(hit(u="https://shop.example.com/app/#/orders/7?tab=2", h=1))
    assert row["pathname"] == "/app/#/orders/7?tab=2"
    [(_, plain)] = collect(hit(u="https://shop.example.com/app/#/orders/7"))
    assert plain["pathname"] == "/app/"


def test_a_repeated_domain_is_one_site_and_one_event() -> None:
    """Issue 13: one 14 KB body naming one domain 1,000 times stored 1,000 pageviews."""
    rows = collect(hit(d=",".join(["shop.example.com", "www.shop.example.com", "SHOP.example.com "] * 3)))
    assert [kind for kind, _ in rows] == ["events"]
    assert [row["site_id"] for _, row in collect(hit(d="shop.example.com,blog.example.com"))] == [
        "site1",
        "site2",
    ]


def test_more_than_ten_distinct_domains_is_a_400_naming_the_field() -> None:
    error = rejected(hit(d=",".join(f"site{i}.example.com" for i in range(11))))
    assert (error.status, error.code) == (400, "invalid_event")
    assert [problem["field"] for problem in error.details] in (["d"], ["domain"])
    assert "at most 10" in error.message
