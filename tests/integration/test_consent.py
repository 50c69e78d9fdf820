"""Consent end to end in process: the tracking API and the collector → loader → `consent_events`
→ the query API's consent view, and the site setting that stores only what was consented to.

Fed with Segment's published `Segment Consent Preference Updated` example
(tests/payloads/specs); every envelope is delivered three times. The storage tests search every
table of the database for the refused values, so a new table that kept one would fail them.
"""

from __future__ import annotations

import json
from typing import Any

from tracking_pipeline import RECEIVED, SPECS, Pipeline, sha256_hex

from touchline.config.sites import Site
from touchline.consent.policy import policy
from touchline.enrichment import FullEnricher
from touchline.identity.gdpr import delete, export, find_subject
from touchline.identity.privacy_requests import of_subject, record, subject_of
from touchline.ingest.collect import Collector, IncomingHit
from touchline.ingest.site_cache import SiteResolver
from touchline.warehouse.sql import ClientSql

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
REFUSED = {"categoryPreferences": {"Analytics": False, "Advertising": False, "Functional": True}}
GRANTED = {"categoryPreferences": {"Analytics": True, "Advertising": True}}


def call(kind: str, message_id: str, minute: int, consent: Any = None, **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": kind,
        "messageId": message_id,
        "timestamp": f"2026-11-20T11:{minute:02d}:00Z",
        **fields,
    }
    if consent is not None:
        message.setdefault("context", {})["consent"] = consent
    return message


def test_segments_preference_event_is_a_choice_per_category(pipeline: Pipeline) -> None:
    example = json.loads((SPECS / "segment-consent-preference-updated.json").read_text())
    example["timestamp"] = "2026-11-20T11:00:00.000Z"  # 2023 is past the events retention (730 days)
    assert pipeline.send([example])["accepted"] == 1
    pipeline.deliver()
    [row] = pipeline.table("consent_events", "at")
    assert (row["source"], row["user_id"], row["anonymous_id"], row["person_id"]) == (
        "preference_event",
        "u123",
        "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
        "user:u123",
    )
    assert row["categories"] == {"Advertising": 1, "Analytics": 0, "Functional": 1, "DataSharing": 0}
    # Bookkeeping, not a goal or a visit.
    assert pipeline.sql("SELECT event_type FROM events FINAL WHERE site_id = {site:String}") == [("consent",)]
    assert pipeline.query(metrics=["visitors", "events"]) == [{"metrics": [0, 0], "dimensions": []}]
    by_state = pipeline.query(metrics=["consent_people"], dimensions=["consent:category", "consent:state"])
    assert sorted((r["dimensions"][0], r["dimensions"][1], r["metrics"][0]) for r in by_state) == [
        ("Advertising", "granted", 1),
        ("Analytics", "refused", 1),
        ("DataSharing", "refused", 1),
        ("Functional", "granted", 1),
    ]


def test_the_history_keeps_each_choice_and_the_latest_is_the_state(pipeline: Pipeline) -> None:
    yes, no = {"categoryPreferences": {"Analytics": True}}, {"categoryPreferences": {"Analytics": False}}
    anna = {"anonymousId": "anna-browser"}
    batch = [
        call("page", "p1", 1, yes, **anna),
        call("page", "p2", 2, yes, **anna),  # the same choice again: not a new row
        call("track", "t1", 3, no, event="Viewed", **anna),
        call("page", "p3", 4, yes, **anna),
        call("page", "p4", 5, None, **anna),  # no consent object: no row, no change
        # Bo chose on an identify trait (Customer.io-style), then an empty object refused all.
        call("identify", "i1", 6, None, userId="bo", traits={"consent": {"Analytics": True}}),
        call("track", "t2", 7, {"categoryPreferences": {}}, event="Viewed", userId="bo"),
    ]
    assert pipeline.send(batch)["accepted"] == 7
    pipeline.deliver()
    history = [
        (r["anonymous_id"] or r["user_id"], r["source"], r["categories"])
        for r in pipeline.table("consent_events", "at")
    ]
    # A choice repeated on a day is one row, at its latest call; each change is a row.
    assert history == [
        ("anna-browser", "context", {"Analytics": 0}),  # 11:03
        ("anna-browser", "context", {"Analytics": 1}),  # 11:01, 11:02 and 11:04: at 11:04
        ("bo", "identify", {"Analytics": 1}),
        ("bo", "context", {}),
    ]
    # Bo's empty choice names no category: his state stays the identify's.
    assert pipeline.query(metrics=["consent_people", "consent_granted", "consent_refused"]) == [
        {"metrics": [2, 2, 0], "dimensions": []}
    ]
    # Anna on the 3rd minute: refused.
    as_of = pipeline.query(
        metrics=["consent_refused"], date_range=["2026-11-20T00:00:00Z", "2026-11-20T11:03:30Z"]
    )
    assert as_of == [{"metrics": [1], "dimensions": []}]


def test_opt_in_stores_none_of_what_was_refused(pipeline: Pipeline) -> None:
    pipeline.consent = policy("opt_in")
    browser = {"ip": "203.0.113.9", "userAgent": UA}
    refused = {"anonymousId": "anon-refused-7", "userId": "user-refused-7"}
    granted = {"anonymousId": "anon-granted-7", "userId": "user-granted-7"}
    batch = []
    for who, consent, tag in ((refused, REFUSED, "r"), (granted, GRANTED, "g")):
        page = {"url": f"https://app.example.com/pricing?gclid=GCLID-{tag}-7&utm_source=news"}
        context = {"consent": consent, **browser, "page": page, "device": {"id": f"device-{tag}-7"}}
        batch += [
            {**call("page", f"{tag}1", 1, **who), "context": context},
            {
                **call("identify", f"{tag}2", 2, **who),
                "context": context,
                "traits": {"email": f"{tag}-person@example.com", "plan": "pro"},
            },
            {
                **call("track", f"{tag}3", 3, **who),
                "event": "Order Completed",
                "context": context,
                "properties": {"order_id": f"order-{tag}", "total": 40, "currency": "EUR", "email": "x@y.z"},
            },
            {**call("group", f"{tag}4", 4, **who), "groupId": "acme", "context": context},
        ]
    assert pipeline.send(batch)["accepted"] == 8
    pipeline.deliver()
    held = pipeline.holding(
        "GCLID-r-7",
        "anon-refused-7",
        "user-refused-7",
        "r-person@example.com",
        sha256_hex("r-person@example.com"),
        "device-r-7",
        "user-granted-7",
        sha256_hex("g-person@example.com"),
        "device-g-7",
        "GCLID-g-7",
    )
    # Of the refused person, only the record of the refusal.
    assert held["anon-refused-7"] == held["user-refused-7"] == {"consent_events"}
    for value in ("GCLID-r-7", "r-person@example.com", sha256_hex("r-person@example.com"), "device-r-7"):
        assert held[value] == set(), value
    # What was consented to is all there (so the searches above could have found something).
    assert held["user-granted-7"] >= {"events", "identity_links", "people", "consent_events"}
    assert held[sha256_hex("g-person@example.com")] >= {"identity_links", "people"}
    assert held["device-g-7"] == {"devices"}
    assert held["GCLID-g-7"] == {"events"}
    # The refused calls still count, anonymously, and their order keeps its revenue.
    orders = pipeline.sql(
        "SELECT order_id, amount, visitor_id, customer_id FROM orders FINAL WHERE site_id = {site:String} "
        "ORDER BY order_id"
    )
    assert [(o, str(t), v != "", c != "") for o, t, v, c in orders] == [
        ("order-g", "40.0000", True, True),
        ("order-r", "40.0000", False, False),
    ]
    [(refused_visitor, utm)] = pipeline.sql(
        "SELECT visitor_id, utm_source FROM events FINAL WHERE site_id = {site:String} "
        "AND event_type = 'pageview' AND user_id = ''"
    )
    assert refused_visitor.isdigit() and utm == "news"  # the collector's daily hash, not the id


def test_the_tag_path_stores_none_of_what_was_refused(pipeline: Pipeline) -> None:
    site = Site(pipeline.site, "app.example.com", "", consent=policy("opt_in"))

    class Sites:
        def by_domain(self, domain: str) -> Site | None:
            return site if domain == site.domain else None

    collector = Collector(SiteResolver(Sites()), pipeline.queue, FullEnricher(), clock=lambda: RECEIVED)

    def hit(name: str, vid: str, consent: dict[str, bool], **fields: Any) -> None:
        body = {
            "n": name,
            "u": "https://app.example.com/?gclid=TAGGCLID9",
            "d": site.domain,
            "vid": vid,
            "c": consent,
            **fields,
        }
        collector.collect(IncomingHit(json.dumps(body).encode(), UA, "203.0.113.10"))

    refused, granted = {"Analytics": False, "Advertising": False}, {"Analytics": True, "Advertising": True}
    email_hash = sha256_hex("tag-refused@example.com")
    hit("consent", "TagRefusedVisitor0001", refused, uid="tag-refused-user", i=False)
    hit("pageview", "TagRefusedVisitor0001", refused, uid="tag-refused-user")
    hit("identify", "TagRefusedVisitor0001", refused, uid="tag-refused-user", eh=email_hash, i=False)
    hit("pageview", "TagGrantedVisitor0001", granted, uid="tag-granted-user")
    pipeline.deliver()
    held = pipeline.holding(
        "TagRefusedVisitor0001", "tag-refused-user", email_hash, "TAGGCLID9", "TagGrantedVisitor0001"
    )
    assert held["TagRefusedVisitor0001"] == held["tag-refused-user"] == {"consent_events"}
    assert held[email_hash] == set()
    assert held["TAGGCLID9"] == held["TagGrantedVisitor0001"] == {"events"}  # the granted visitor's
    [row] = pipeline.table("consent_events", "at")
    assert (row["source"], row["ingest_source"], row["categories"]) == (
        "tag",
        "tag",
        {"Analytics": 0, "Advertising": 0},
    )
    kinds = pipeline.sql(
        "SELECT event_type, visitor_id FROM events FINAL WHERE site_id = {site:String} AND user_id = '' "
        "ORDER BY event_type"
    )
    assert [k for k, _ in kinds] == ["consent", "identify", "pageview"]
    assert all(v.isdigit() for _, v in kinds)


def test_people_export_and_delete_cover_consent_and_are_recorded_without_the_subject(
    pipeline: Pipeline,
) -> None:
    choice = {"categoryPreferences": {"Analytics": True}}
    pipeline.send([call("identify", "g1", 1, choice, userId="gdpr-ann", traits={"email": "ann@example.com"})])
    pipeline.deliver()
    sql = ClientSql(pipeline.client)
    subject = find_subject(sql, pipeline.site, email="Ann@Example.com")
    asked = RECEIVED
    found = export(sql, subject)
    assert [c["source"] for c in found["tables"]["consent_events"]] == ["context"]
    ref = subject_of(email="Ann@Example.com")
    record(sql, pipeline.site, "export", ref, requested_by="cli:dpo", requested_at=asked, rows={"people": 1})
    # The next request about them finds the first (by the hashes of their emails and user ids).
    [earlier] = of_subject(sql, subject)
    assert (earlier["kind"], earlier["subject_type"], earlier["requested_by"], earlier["rows"]) == (
        "export",
        "email",
        "cli:dpo",
        {"people": 1},
    )
    erased = delete(sql, subject)
    assert erased["consent_events"] >= 1
    record(
        sql,
        pipeline.site,
        "delete",
        subject_of(user_id="gdpr-ann"),
        requested_by="cli:dpo",
        requested_at=asked,
        rows=erased,
    )
    held = pipeline.holding("gdpr-ann", "ann@example.com", sha256_hex("gdpr-ann"))
    assert held["gdpr-ann"] == held["ann@example.com"] == set()  # nothing left in clear, anywhere
    assert held[sha256_hex("gdpr-ann")] == {"privacy_requests"}  # the deletion's record, hashed
    kinds = pipeline.sql(
        "SELECT kind, status FROM privacy_requests FINAL WHERE site_id = {site:String} ORDER BY kind"
    )
    assert kinds == [("delete", "completed"), ("export", "completed")]
