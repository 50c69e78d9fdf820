"""Klaviyo's sync against a fake that refuses what Klaviyo's OpenAPI document refuses.

Issue 11 found three requests the real API refuses or wastes quota on (a `greater-or-equal`
filter on profiles' `updated`, a `group_by` on segment series, a zero-length timeframe on every
report stream's first run) and a run order in which one failing stream starved all the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from fakes.harness import SITE, SyncHarness
from fakes.klaviyo import Campaign, FakeKlaviyo, add_orders
from fakes.server import Reply, Request
from touchline.syncs.service import run_sync

KEY = "pk_contract"
REPORTS = ("campaign-values-reports", "flow-series-reports", "form-series-reports", "segment-series-reports")


@pytest.fixture
def klaviyo() -> Iterator[FakeKlaviyo]:
    fake = FakeKlaviyo(api_key=KEY)
    fake.add_metric("PLACED", "Placed Order", "shopify")
    now = datetime.now(UTC)
    add_orders(fake, 30, start=now - timedelta(days=5), lines_per_order=1, profiles=5)
    for i in range(5):
        fake.add_profile(f"prof{i}", f"p{i}@example.com", now - timedelta(days=4, hours=i))
    fake.campaigns["C1"] = Campaign(
        "C1",
        "Launch",
        "email",
        now - timedelta(days=2),
        {"M1": {"name": "Launch email", "stats": {"recipients": 10}}},
    )
    fake.flow_days.append(
        {
            "flow_id": "F1",
            "flow_message_id": "FM1",
            "flow_name": "Welcome",
            "flow_message_name": "Email 1",
            "send_channel": "email",
            "date": now.date(),
            "stats": {"recipients": 3},
        }
    )
    fake.forms["FORM1"] = "Popup"
    fake.form_days.append({"form_id": "FORM1", "date": now.date(), "stats": {"viewed_form": 9}})
    fake.segments["SEG1"] = "VIPs"
    fake.segment_days.append({"segment_id": "SEG1", "date": now.date(), "stats": {"total_members": 12}})
    with fake.serve():
        yield fake


def connect(harness: SyncHarness, fake: FakeKlaviyo) -> None:
    # Statistics refresh on every run here (the default waits an hour between refreshes).
    harness.connect("klaviyo", {"api_key": KEY}, fake.base_url, statistics_interval_minutes=0)


def report_requests(fake: FakeKlaviyo) -> dict[str, int]:
    counts = dict.fromkeys(REPORTS, 0)
    for request in fake.calls:
        name = request.path.strip("/").removeprefix("api/")
        if name in counts:
            counts[name] += 1
    return counts


def test_two_runs_succeed_with_every_stream_fresh_and_no_request_refused(
    harness: SyncHarness, klaviyo: FakeKlaviyo
) -> None:
    connect(harness, klaviyo)
    first = run_sync(harness.env, SITE, "klaviyo")
    assert first.complete, first.summary()
    # One request per report on a first run: no zero-length timeframe spending the daily quota.
    assert report_requests(klaviyo) == dict.fromkeys(REPORTS, 1)
    klaviyo.add_profile("prof9", "new@example.com", datetime.now(UTC))
    second = run_sync(harness.env, SITE, "klaviyo")
    assert second.complete, second.summary()
    assert {s.status for s in second.streams.values()} == {"done"}
    assert klaviyo.refusals == []
    incremental = [r.arg("filter") for r in klaviyo.calls if r.path.startswith("/api/profiles")][-1]
    assert incremental is not None and re.fullmatch(r"greater-than\(updated,[^)]+\)", incremental)
    assert harness.scalar(f"SELECT count() FROM segment_statistics FINAL WHERE site_id = '{SITE}'") > 0
    assert harness.scalar("SELECT count() FROM integration_customers FINAL WHERE customer_id = 'prof9'") == 1
    states = harness.env.state.load(SITE, "klaviyo")
    assert {name: s.status for name, s in states.items()} == dict.fromkeys(states, "done")
    assert all(s.succeeded_at is not None for s in states.values())


def test_one_failing_stream_never_starves_the_others(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    def refuse_profiles(request: Request, _match: re.Match[str]) -> Reply:
        return Reply(400, {"errors": [{"status": 400, "code": "invalid", "detail": "profiles are down"}]})

    klaviyo.routes.insert(0, ("GET", re.compile(r"^/api/profiles/?$"), refuse_profiles))
    connect(harness, klaviyo)
    for _ in range(2):  # and on the next scheduled run too
        report = run_sync(harness.env, SITE, "klaviyo")
        statuses = {name: s.status for name, s in report.streams.items()}
        assert statuses.pop("profiles") == "failed"
        assert set(statuses.values()) == {"done"}, report.summary()
    integration = harness.env.integrations.get(SITE, "klaviyo")
    assert integration is not None and integration.status == "failing"
    assert "profiles failed" in integration.message and "profiles are down" in integration.message
    states = harness.env.state.load(SITE, "klaviyo")
    assert states["profiles"].status == "failed" and states["profiles"].succeeded_at is None
    assert states["segment_statistics"].status == "done"
    for table in ("campaign_statistics", "flow_statistics", "form_statistics", "segment_statistics"):
        assert harness.scalar(f"SELECT count() FROM {table} FINAL") > 0, table
    assert harness.scalar("SELECT count() FROM orders FINAL") == 30


def test_a_spent_report_quota_limits_only_its_own_stream(harness: SyncHarness, klaviyo: FakeKlaviyo) -> None:
    klaviyo.report_calls["/api/segment-series-reports"] = 225  # today's quota is gone
    connect(harness, klaviyo)
    report = run_sync(harness.env, SITE, "klaviyo")
    assert report.streams["segment_statistics"].status == "limited"
    others = {n: s.status for n, s in report.streams.items() if n != "segment_statistics"}
    assert set(others.values()) == {"done"}
    assert not report.complete and not report.failed
    integration = harness.env.integrations.get(SITE, "klaviyo")
    assert integration is not None and integration.status == "ok" and "limited" in integration.message
