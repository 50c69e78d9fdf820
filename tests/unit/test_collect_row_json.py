"""The collector writes each hit's `events` row JSON straight from its columns (`columns_json`),
without building an `EventRow`: this holds that JSON equal to the one the validated row writes,
and every accepted hit's columns valid as an `EventRow` (what the loader checks), over hits
drawn from everything the Plausible body allows, through both enrichers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchline.enrichment import FullEnricher, InMemorySaltStore
from touchline.envelope import columns_envelope_json, columns_json, envelope_json
from touchline.ingest.collect import CollectError, parse_hit, row_columns
from touchline.ingest.enrich import DropHit, HitContext, UrlEnricher
from touchline.ingest.hit import MAX_ENGAGEMENT_MS
from touchline.ingest.rows import EventRow

AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "",
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
PROP_VALUES = st.one_of(
    TEXT,
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.just({"a": 1}),
)
URLS = st.builds(
    lambda host, path, query, fragment: f"https://{host}/{path}{query}{fragment}",
    st.sampled_from(["shop.example.com", "www.shop.example.com", "shop.example.com:8443", "[::1]"]),
    TEXT.map(lambda t: t.replace("#", "").replace("?", "")),
    st.sampled_from(
        ["", "?utm_source=news&utm_medium=email", "?gclid=abc", "?fbclid=x&utm_campaign=c", "?ref=ph"]
    ),
    st.sampled_from(["", "#/cart", "#"]),
)
BODIES = st.fixed_dictionaries(
    {
        "n": st.sampled_from(["pageview", "engagement", "Signup", "identify"]),
        "u": URLS,
        "d": st.just("shop.example.com"),
    },
    optional={
        "r": st.sampled_from(
            ["", "https://www.google.com/", "https://t.co/x", "https://shop.example.com/a", "junk"]
        ),
        "p": st.dictionaries(st.text(min_size=1, max_size=10), PROP_VALUES, max_size=5),
        "$": st.fixed_dictionaries(
            {
                "amount": st.one_of(
                    st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, places=6).map(str),
                    st.integers(-(10**12), 10**12),
                    st.just("0"),
                ),
                "currency": st.sampled_from(["usd", "EUR"]),
            }
        ),
        "i": st.booleans(),
        "h": st.booleans(),
        "e": st.integers(0, MAX_ENGAGEMENT_MS),
        "sd": st.integers(0, 255),
        "w": st.integers(0, 65535),
        "vid": st.sampled_from(["0c1d2e3f4a5b4c6d8e7f9012", "a" * 64]),
        "uid": st.text(min_size=1, max_size=20).filter(str.strip),
        "eh": st.just("ab" * 32),
    },
)


def _columns(body: dict[str, Any], enricher: Any, user_agent: str) -> dict[str, object] | None:
    try:
        hit = parse_hit(json.dumps(body).encode())
    except CollectError:
        return None  # refused up front: nothing reaches the row
    context = HitContext(
        site_id="site1",
        site_domain="shop.example.com",
        url=hit.url,
        referrer=hit.referrer or "",
        user_agent=user_agent,
        ip="81.2.69.160",
        timestamp=datetime.now(UTC),
        visitor_id=hit.visitor_id,
    )
    try:
        return row_columns(hit, context, enricher.enrich(context))
    except DropHit:
        return None


@pytest.mark.parametrize("enricher", [FullEnricher(InMemorySaltStore()), UrlEnricher()], ids=["full", "url"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, agent=st.sampled_from(AGENTS))
def test_row_json_from_columns_is_the_validated_rows(enricher: Any, body: dict[str, Any], agent: str) -> None:
    columns = _columns(body, enricher, agent)
    if columns is None:
        return
    row = EventRow.model_validate(columns)  # the loader's check: every accepted hit passes it
    assert json.loads(columns_json(EventRow, columns)) == json.loads(row.to_json())
    assert json.loads(columns_envelope_json("events", EventRow, columns)) == json.loads(
        envelope_json("events", row)
    )


def test_an_engagement_beyond_the_column_is_refused_up_front() -> None:
    with pytest.raises(CollectError) as refused:
        parse_hit(
            json.dumps({"n": "engagement", "u": "https://a.example/", "d": "a.example", "e": 2**32}).encode()
        )
    assert refused.value.status == 400 and refused.value.code == "invalid_event"
