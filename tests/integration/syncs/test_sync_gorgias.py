"""Gorgias sync against a fake Gorgias API (tests/fakes/gorgias.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from fakes.gorgias import FakeGorgias, survey, ticket, touch
from fakes.harness import SITE, SyncHarness, watermarks
from touchline.syncs.deadline import Deadline
from touchline.syncs.service import run_sync
from touchline.syncs.state import Checkpoint

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=30)


@pytest.fixture
def gorgias() -> Iterator[FakeGorgias]:
    fake = FakeGorgias()
    for i in range(350):
        created = START + timedelta(minutes=5 * i)
        fake.tickets[i + 1] = ticket(
            i + 1, created, created + timedelta(minutes=2), 900 + i % 60, f"Client{i % 60}@Example.com"
        )
    for i in range(40):
        created = NOW - timedelta(days=20 - i // 2)
        fake.surveys[i + 1] = survey(
            i + 1,
            created,
            900 + i,
            i + 1,
            score=4 if i % 2 else None,
            scored=created + timedelta(hours=3) if i % 2 else None,
        )
    with fake.serve():
        yield fake
    # Every request the sync sent is one the provider's published API document accepts.
    assert fake.refusals == [], fake.refusals


def connect(harness: SyncHarness, fake: FakeGorgias, key: str = "gorgias-key") -> None:
    harness.connect("gorgias", {"domain": "acme", "email": "ops@example.com", "api_key": key}, fake.base_url)


def events(harness: SyncHarness) -> dict[str, tuple[str, str]]:
    rows = harness.rows("SELECT event_id, event_type, event_details FROM customer_events FINAL")
    return {r[0]: (r[1], r[2]) for r in rows}


def expected(fake: FakeGorgias) -> dict[str, str]:
    """event_id → the field that changes in these tests (ticket status, survey score)."""
    found = {f"ticket:{i}": t["status"] for i, t in fake.tickets.items()}
    found.update({f"survey:{i}": str(s["score"]) for i, s in fake.surveys.items()})
    return found


def stored(harness: SyncHarness) -> dict[str, str]:
    return {
        event_id: str(json.loads(details).get("status" if kind == "ticket" else "score"))
        for event_id, (kind, details) in events(harness).items()
    }


def test_full_sync_equals_the_fakes_data(harness: SyncHarness, gorgias: FakeGorgias) -> None:
    connect(harness, gorgias)
    report = run_sync(harness.env, SITE, "gorgias")
    assert report.complete, report.summary()
    assert stored(harness) == expected(gorgias)
    details = json.loads(events(harness)["ticket:1"][1])
    assert details["subject"] == "Where is my order 1?" and details["tags"] == ["shipping"]
    assert harness.scalar("SELECT count() FROM integration_customers FINAL WHERE source = 'gorgias'") == 60
    assert harness.scalar("SELECT email_sha256 != '' FROM customer_events FINAL WHERE event_id = 'ticket:2'")
    assert all(r.arg("order_by") for r in gorgias.served)
    assert harness.sleeps  # the bucket header went past 80 %: paced


def test_incremental_walk_stops_at_the_watermark(harness: SyncHarness, gorgias: FakeGorgias) -> None:
    connect(harness, gorgias)
    run_sync(harness.env, SITE, "gorgias")
    touch(gorgias.tickets[10], datetime.now(UTC), status="closed")
    gorgias.tickets[1000] = ticket(1000, datetime.now(UTC), datetime.now(UTC), 901, "client1@example.com")
    # Survey 31 went out 5 days ago and is scored now: within the surveys' 14-day re-read.
    gorgias.surveys[31]["score"] = 5
    gorgias.surveys[31]["scored_datetime"] = datetime.now(UTC).isoformat()
    report = run_sync(harness.env, SITE, "gorgias")
    assert report.streams["tickets"].records == 2  # only what changed since the last walk
    assert stored(harness) == expected(gorgias)


def test_rate_limits_and_errors_lose_nothing(harness: SyncHarness, gorgias: FakeGorgias) -> None:
    gorgias.faults.rate_limit_every = 3
    gorgias.faults.error_every = 5
    connect(harness, gorgias)
    assert run_sync(harness.env, SITE, "gorgias").complete
    assert stored(harness) == expected(gorgias)
    assert 1.0 in harness.sleeps


def test_a_ticket_updated_mid_walk_is_caught(harness: SyncHarness, gorgias: FakeGorgias) -> None:
    def update(call: int) -> None:
        if call == 2:  # page 1 (the newest) was served; ticket 340 was on it: it moves to the top
            touch(gorgias.tickets[340], datetime.now(UTC), status="closed")

    gorgias.between_calls = update
    connect(harness, gorgias)
    run_sync(harness.env, SITE, "gorgias")
    gorgias.between_calls = None
    run_sync(harness.env, SITE, "gorgias")
    assert stored(harness) == expected(gorgias)


def test_out_of_time_mid_walk_resumes_or_restarts(harness: SyncHarness, gorgias: FakeGorgias) -> None:
    connect(harness, gorgias)
    report = run_sync(
        harness.env, SITE, "gorgias", deadline=Deadline(lambda: 1.0 if len(gorgias.served) < 2 else -1)
    )
    assert report.stopped
    state = harness.env.state.load(SITE, "gorgias")["tickets"]
    assert state.watermark is None and state.position and state.position["cursor"]
    served = len(gorgias.served)
    assert run_sync(harness.env, SITE, "gorgias").complete
    resumed = next(r for r in gorgias.served[served:] if r.path.startswith("/api/tickets"))
    assert resumed.arg("cursor") == state.position["cursor"]  # resumed, after the streams never run
    assert stored(harness) == expected(gorgias)
    # A cursor Gorgias no longer accepts: the walk starts over from the newest.
    harness.env.state.save(
        SITE, "gorgias", "tickets", Checkpoint(position={**state.position, "cursor": "bad"}), 0
    )
    assert run_sync(harness.env, SITE, "gorgias").complete
    assert stored(harness) == expected(gorgias)


def test_revoked_key_fails_clearly_and_keeps_watermarks(harness: SyncHarness, gorgias: FakeGorgias) -> None:
    connect(harness, gorgias)
    run_sync(harness.env, SITE, "gorgias")
    before = watermarks(harness, "gorgias")
    gorgias.api_key = "rotated"
    report = run_sync(harness.env, SITE, "gorgias")
    assert "HTTP 401" in report.error and "authentication failed" in report.error
    integration = harness.env.integrations.get(SITE, "gorgias")
    assert integration is not None and integration.status == "failing"
    assert watermarks(harness, "gorgias") == before  # a failed attempt is recorded, nothing moved
