"""Visit filters a session's first hit decides, applied before FINAL (`first_hit_prewhere`).

A PREWHERE under FINAL drops rows before ReplacingMergeTree picks a key's latest version, so it
is exact only on columns every version of a key shares (`FIRST_HIT_COLUMNS`). These tests hold
that promise from both sides: the aggregation writes the same values in every version and
tombstone of a key, and answers with the PREWHERE equal those without it, also after a
tombstone and a newer version with another exit page were written by hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from query_world import DOCS_TODAY, DOMAIN, GOALS, World

from touchline.aggregate import sessions
from touchline.query.compile import CompileContext

NOW = datetime.combine(DOCS_TODAY, time(12), UTC)
BODIES = [
    {"metrics": ["visitors", "visits", "bounce_rate", "visit_duration"]},
    {"metrics": ["visitors", "percentage"], "dimensions": ["visit:device"]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["event:page"]},
    {"metrics": ["visitors", "conversion_rate"], "dimensions": ["event:goal"]},
    {"metrics": ["net_revenue"], "dimensions": ["revenue:currency"]},
]


@pytest.fixture(scope="module")
def loaded(chdb_path: Any) -> Any:
    from query_world import load_world

    return load_world(chdb_path, World.build(DOCS_TODAY, seed=5), NOW, site_id="prewhere00000001")


def _session(loaded: Any, where: str) -> dict[str, Any]:
    """A live session of the last 20 days matching `where`."""
    result = loaded.client.query(
        f"SELECT * FROM sessions FINAL WHERE site_id = {{site:String}} AND is_deleted = 0 AND {where} "
        "AND session_start >= {since:DateTime64(3, 'UTC')} ORDER BY session_start, session_id LIMIT 1",
        parameters={"site": loaded.site.site_id, "since": NOW - timedelta(days=20)},
    )
    return dict(zip(result.column_names, result.result_rows[0], strict=True))


def _write_version(loaded: Any, row: dict[str, Any], **changes: Any) -> None:
    """A newer version of a stored session row (a tombstone with `is_deleted=1`)."""
    new = {**row, **changes, "version": row["version"] + 1}
    loaded.client.insert("sessions", [list(new.values())], column_names=list(new))


def _queries(filters: list[Any]) -> list[dict[str, Any]]:
    return [{"site_id": DOMAIN, "date_range": "30d", **b, "filters": filters} for b in BODIES]


def _without_prewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CompileContext, "first_hit_prewhere", lambda self, nodes=None, window="": "")


def test_first_hit_columns_are_what_the_sessions_take_from_their_first_hit() -> None:
    taken = set(re.findall(r"tupleElement\(g\[1\], \d+\)\s+AS (\w+)", sessions.SESSIONS_SELECT))
    taken |= {"channel", "session_id"}  # the channel's fallbacks; the id is the first hit's
    assert taken | {"site_id", "visitor_id"} == sessions.FIRST_HIT_COLUMNS
    assert not {"exit_page", "session_end", "duration_s", "pageviews", "is_bounce", "user_id"} & taken


def test_every_version_of_a_session_key_shares_its_first_hit_columns(loaded: Any) -> None:
    # A second full run writes every session again (a new version of each key) and tombstones
    # none; then all rows, without FINAL, must agree per key.
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.sql import ClientSql

    loaded.client.command("SYSTEM STOP MERGES sessions")  # keep both versions of each key
    try:
        Aggregator(ClientSql(loaded.client), MemoryWatermarks()).run(
            loaded.site.site_id, AttributionSettings(goals=tuple(ConversionGoal(g) for g in GOALS)), full=True
        )
        columns = sorted(sessions.FIRST_HIT_COLUMNS - {"site_id", "visitor_id", "session_id"})
        [(keys, versioned, disagreeing)] = loaded.client.query(
            "SELECT count(), countIf(n > 1), countIf(d > 1) FROM (SELECT count() AS n, "
            f"greatest({', '.join(f'uniqExact({c})' for c in columns)}) AS d FROM sessions "
            "WHERE site_id = {site:String} GROUP BY visitor_id, session_id)",
            parameters={"site": loaded.site.site_id},
        ).result_rows
    finally:
        loaded.client.command("SYSTEM START MERGES sessions")
    assert keys > 100 and versioned == keys
    assert disagreeing == 0


@pytest.mark.parametrize(
    "filters",
    [
        [["is", "visit:channel", ["Email"]]],
        [["is_not", "visit:channel", ["Email", "Direct"]]],
        [["is", "visit:device", ["(not set)", "Mobile"]], ["contains", "visit:source", ["oo"]]],
        [["or", [["is", "visit:country", ["DE"]], ["is", "visit:entry_page", ["/"]]]]],
    ],
    ids=str,
)
def test_the_prewhere_changes_no_answer(
    loaded: Any, filters: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for query in _queries(filters):
        sql = loaded.engine().compile(loaded.engine().parse(query, loaded.site)).sql
        assert "FINAL PREWHERE" in sql, query
    with_prewhere = [loaded.run(q)["results"] for q in _queries(filters)]
    _without_prewhere(monkeypatch)
    assert with_prewhere == [loaded.run(q)["results"] for q in _queries(filters)]
    assert any(with_prewhere), "filters that select nothing prove little"


def test_filters_on_what_later_hits_change_stay_after_final(loaded: Any) -> None:
    query = _queries([["is", "visit:exit_page", ["/"]], ["is", "visit:channel", ["Email"]]])[0]
    sql = loaded.engine().compile(loaded.engine().parse(query, loaded.site)).sql
    before_final = re.findall(r"PREWHERE (.*?) WHERE ", sql)
    assert before_final and all("s.channel" in p and "exit_page" not in p for p in before_final)
    assert "exit_page" in sql


def test_a_tombstone_and_a_newer_exit_page_are_seen(loaded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = _session(loaded, "channel != 'Direct'")
    moved = _session(loaded, "channel = 'Direct' AND exit_page != ''")
    visits = {"site_id": DOMAIN, "date_range": "30d", "metrics": ["visits"]}
    by_channel = {**visits, "filters": [["is", "visit:channel", [gone["channel"]]]]}
    by_exit = {**visits, "filters": [["is", "visit:exit_page", [moved["exit_page"]]]]}
    before = [loaded.run(q)["results"][0]["metrics"][0] for q in (by_channel, by_exit)]
    _write_version(loaded, gone, is_deleted=1)
    _write_version(loaded, moved, exit_page="/somewhere-else")
    after = [loaded.run(q)["results"][0]["metrics"][0] for q in (by_channel, by_exit)]
    assert after == [before[0] - 1, before[1] - 1]
    _without_prewhere(monkeypatch)
    assert [loaded.run(q)["results"][0]["metrics"][0] for q in (by_channel, by_exit)] == after
