"""Dashboard speed in Chromium on `touchline dev` with 1,000,000 events (issue 16's goals: the
overview's first complete render ≤ 1.5 s, a filter click to the updated view ≤ 500 ms).

Times come from the page's own Performance marks (`touchline:overview-ready`, set when every
answer of the round is on screen): first render is the mark's time since navigation start; a
filter click is from the click (the `pointerdown` event's own time stamp: when the button is
pressed, not when the test driver starts locating it) to the next mark. The baseline, measured
in the same run, is the same round of queries sent straight to the query API from Python (in
parallel, as the page sends them), so each ratio is what the browser, the app and rendering add
to the API's own time.

"Cold" means the query API's result cache cannot answer: one event of the site, outside the
measured periods, is inserted before each cold measurement, which changes the site's data version
(touchline/query/cache.py) and so every cache key. ClickHouse's own caches (marks, pages) stay
warm, as on a live stack.

Run alone: `python -m bench.bench_dashboard` (minutes: it loads and aggregates 1M events);
`TOUCHLINE_BENCH_DASHBOARD_EVENTS=20000` for a quick look.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import ROOT

sys.path.insert(0, str(ROOT / "tests"))  # revenue_payloads, fakes (the views tests' fixtures)
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

EVENTS = int(os.environ.get("TOUCHLINE_BENCH_DASHBOARD_EVENTS", "1000000"))
VISITORS = max(EVENTS // 5, 1)
DOMAIN = "bench.test"

EVENTS_SQL = """
INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, url,
                    hostname, pathname, referrer_source, utm_medium, utm_campaign, channel,
                    device_type, browser, os, country)
SELECT generateUUIDv4(number), '{site}', ts, ts,
       if(number % 25 = 0, 'goal', 'pageview'), if(number % 25 = 0, 'Signup', 'pageview'),
       concat('bench-visitor-', toString(v)), 'https://bench.test/', 'bench.test',
       ['/', '/pricing', '/blog', '/docs', '/buy'][number % 5 + 1], a.1, a.2, a.3, a.4,
       ['desktop', 'mobile', 'tablet'][v % 3 + 1], ['Chrome', 'Safari', 'Firefox'][v % 3 + 1],
       ['Windows', 'Mac', 'iOS', 'Android'][v % 4 + 1], ['US', 'DE', 'FR', 'GB', 'JP'][v % 5 + 1]
FROM (
    SELECT number, number % {visitors} AS v,
           now64(3, 'UTC') - toIntervalSecond((cityHash64(number) % (58 * 86400)) + 600) AS ts,
           [('', '', '', 'Direct'), ('Google', '', '', 'Organic Search'),
            ('Google', 'cpc', 'brand', 'Paid Search'), ('newsletter', 'email', 'nov', 'Email'),
            ('Facebook', '', '', 'Organic Social'),
            ('Bing', '', '', 'Organic Search')][cityHash64(v, intDiv(number, {visitors})) % 6 + 1] AS a
    FROM numbers({events}))
"""


# One event of the measured site, 100 days old (outside the period and the previous one, so no
# figure moves): the site's data version (per site: touchline/query/cache.py) changes, so no
# cached result can answer, as on a live site receiving hits.
BUST_SQL = """
INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id)
VALUES (generateUUIDv4(), '{site}', now64(3, 'UTC') - toIntervalDay(100), now64(3, 'UTC'),
        'pageview', 'pageview', 'bench-buster')
"""


def _dev(port: int, path: str, payload: dict[str, Any]) -> Any:
    """A dev endpoint of the stack, with room for minutes (the CLI gives these calls 60 s)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=1800) as response:
        return json.loads(response.read() or b"null")


# How many active parts the measured tables have: FINAL over a partition of one part reads it as
# it is, over several it merges them in the query, so the same round costs more while the
# aggregation's fresh session parts wait for a background merge (docs/dashboard.md).
PARTS_SQL = """
SELECT table, count() FROM system.parts
WHERE active AND database = currentDatabase() AND table IN ('events', 'sessions')
GROUP BY table ORDER BY table
"""


def _parts(port: int) -> str:
    rows = _dev(port, "/_dev/sql", {"query": PARTS_SQL})["rows"]
    return ", ".join(f"{table} {count}" for table, count in rows)


def _query(port: int, token: str, body: dict[str, Any]) -> float:
    """One query as the page sends it: a person's, to POST /api/v1/query with their ID token."""
    # What the page sent, as JSON.stringify sent it: fields it left undefined are absent.
    sent = {k: v for k, v in body.items() if v is not None}
    started = time.perf_counter()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/query",
        data=json.dumps(sent).encode(),
        method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    try:
        # A hang guard: a visit-filtered query at 1M events on a loaded machine takes minutes.
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()
    except urllib.error.HTTPError as error:
        # The page got the same answer (a query the API refuses, such as revenue filtered by a
        # visit dimension, is part of its round too); anything else is a broken bench.
        if error.code != 400:
            raise RuntimeError(f"{sent} answered {error.code}: {error.read()[:300]!r}") from None
        error.read()
    return time.perf_counter() - started


def _batch(port: int, token: str, bodies: list[dict[str, Any]]) -> float:
    """The page's round straight to the API as one batch request, as the page now sends it (ms)."""
    sent = [{k: v for k, v in body.items() if v is not None} for body in bodies]
    started = time.perf_counter()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/query",
        data=json.dumps({"queries": sent}).encode(),
        method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def _round(port: int, token: str, bodies: list[dict[str, Any]]) -> float:
    """The page's round straight to the API, in parallel as the browser sends it (ms)."""
    with ThreadPoolExecutor(max_workers=max(len(bodies), 1)) as pool:
        started = time.perf_counter()
        list(pool.map(lambda b: _query(port, token, b), bodies))
        return (time.perf_counter() - started) * 1000


# Where a first render's time goes, from the page's own Resource and Navigation Timing (ms since
# navigation start): the HTML, the scripts, the shell's sign-in lookups (sites and me, which the
# overview's queries wait for: they need the site's time zone), the round of queries, the render.
PHASES_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const end = (test) => Math.max(0, ...res.filter((r) => test(r.name)).map((r) => r.responseEnd));
  const queries = res.filter((r) => r.name.includes('/api/v1/query'));
  return {
    html: nav.responseEnd,
    scripts: end((n) => n.includes('/assets/') && n.endsWith('.js')),
    boot: (performance.getEntriesByName('touchline:boot')[0] || { startTime: 0 }).startTime,
    account: end((n) => n.includes('/api/v1/sites') || n.includes('/api/v1/me')),
    first_query: Math.min(...queries.map((r) => r.startTime)),
    last_answer: Math.max(...queries.map((r) => r.responseEnd)),
    ready: performance.getEntriesByName('touchline:overview-ready')[0].startTime,
  };
}"""


# The press of the next click, as the page saw it (the event's time stamp, on performance.now()'s
# clock). Playwright's click first waits for the button to be visible and stable over two
# animation frames, ~50 ms the user does not spend: timing from the call would count them.
PRESS_JS = """() => {
  window.__pressedAt = null;
  const press = (e) => { window.__pressedAt = e.timeStamp; };
  addEventListener('pointerdown', press, { capture: true, once: true });
}"""

# Where a filter click's time goes (ms since the click): its round's request leaving and answered
# (Resource Timing of the queries sent after the click), then everything on screen.
CLICK_PHASES_JS = """(t0) => {
  const queries = performance.getEntriesByType('resource')
    .filter((r) => r.name.includes('/api/v1/query') && r.startTime >= t0);
  return {
    first_query: Math.min(...queries.map((r) => r.startTime)) - t0,
    last_answer: Math.max(...queries.map((r) => r.responseEnd)) - t0,
  };
}"""


def _click_phase_rows(phases: list[dict[str, float]]) -> list[tuple[str, str]]:
    after = "(ms after the click)"
    labels = {
        "called": "Playwright's click call began (ms before the press; not counted)",
        "first_query": f"the round's request sent {after}",
        "last_answer": f"its answer received {after}",
        "ready": f"everything on screen {after}",
    }
    return _median_rows(phases, {key: f"    click: {text}" for key, text in labels.items()})


def _median_rows(
    phases: list[dict[str, float]], labels: dict[str, str], unit: str = ""
) -> list[tuple[str, str]]:
    """Each phase's median over the runs, under its label."""
    if not phases:
        return []
    return [
        (label, f"{statistics.median(p[key] for p in phases):.0f}{unit}") for key, label in labels.items()
    ]


READY_JS = "performance.getEntriesByName('touchline:overview-ready')[0].startTime"


def _phase_rows(label: str, phases: list[dict[str, float]]) -> list[tuple[str, str]]:
    """Median time since navigation start at which each phase of a first render ended."""
    names = {
        "html": "HTML received",
        "scripts": "scripts received (the map's chunk, loaded on demand, among them)",
        "boot": "the app's script starts (touchline:boot)",
        "account": "sites and me answered (asked by index.html; the queries wait for them)",
        "first_query": "first query sent",
        "last_answer": "last query answered",
        "ready": "everything on screen",
    }
    return _median_rows(phases, {key: f"  {label} render: {text}" for key, text in names.items()}, " ms")


class ServerLog:
    """The stack's query log (QueryFunction's `query` lines on stdout): what one render cost the
    engine — invocations, cached answers, and the seconds each spent reading the data version and
    executing (median per render)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self.renders: list[dict[str, float]] = []

    def mark(self) -> None:
        self._offset = self._path.stat().st_size

    def take(self) -> None:
        with open(self._path, "rb") as log:
            log.seek(self._offset)
            lines = log.read().decode(errors="replace").splitlines()
        runs = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "query" and "seconds" in entry:
                runs.append(entry)
        seconds = [r["seconds"] for r in runs]
        self.renders.append(
            {
                "invocations": len(runs),
                "cached": sum(1 for r in runs if r.get("cached")),
                "version_sum": sum(s.get("version", 0) for s in seconds) * 1000,
                "execute_sum": sum(s.get("execute", 0) for s in seconds) * 1000,
                "execute_max": max((s.get("execute", 0) for s in seconds), default=0) * 1000,
                "total_max": max((s.get("total", 0) for s in seconds), default=0) * 1000,
            }
        )

    def rows(self, label: str) -> list[tuple[str, str]]:
        if not self.renders:
            return []
        names = {
            "invocations": "query invocations",
            "cached": "of which answered from the result cache",
            "version_sum": "data-version reads, summed (ms)",
            "execute_sum": "executing (cache misses: ClickHouse), summed (ms)",
            "execute_max": "the slowest one's execution (ms)",
            "total_max": "the slowest invocation in all (ms)",
        }
        return [
            (f"  {label} server: {text}", f"{statistics.median(r[key] for r in self.renders):.0f}")
            for key, text in names.items()
        ]


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ms (median of {len(values)})"


def run(progress: bool = False) -> list[tuple[str, str]]:
    from playwright import sync_api

    # The browser tests' helpers (tests/e2e): the same stack, browser and signed-in page.
    tools = importlib.import_module("dashboard_tools")
    launched = tools.launched
    tag_tools = importlib.import_module("tag_tools")
    cli, ensure_chromium, running_stack = tag_tools.cli, tag_tools.ensure_chromium, tag_tools.running_stack
    world = importlib.import_module("dashboard_world")
    _page = world.signed_in_page

    def _ready(page: Any, view: str, after: int = 0) -> int:
        # A filtered round at 1M events on a loaded machine can take minutes: a hang guard only.
        ready: int = world.wait_ready(page, view, after, timeout_s=600)
        return ready

    figures: list[tuple[str, str]] = []

    def show(*rows: tuple[str, str]) -> None:
        """With `progress`, printed as soon as measured: a later step that fails keeps these."""
        for label, figure in rows:
            figures.append((label, figure))
            if progress:
                print(f"  {label:<72} {figure}", flush=True)

    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), DOMAIN) as stack:
        started = time.perf_counter()
        sql = EVENTS_SQL.format(site=stack.site_id, visitors=VISITORS, events=EVENTS)
        _dev(stack.port, "/_dev/sql", {"query": sql})
        show((f"load {EVENTS:,} events (INSERT … SELECT)", f"{time.perf_counter() - started:.1f} s"))
        cli("goals", "add", stack.site_id, "Signup", data_dir=stack.data_dir)
        started = time.perf_counter()
        event = {"site": stack.site_id, "full": True}
        _dev(stack.port, "/_dev/invoke", {"function": "AggregatesFunction", "event": event})
        aggregated = f"{time.perf_counter() - started:.1f} s"
        show((f"aggregation (sessions, credits) of {EVENTS:,} events", aggregated))
        show(("active parts right after the aggregation", _parts(stack.port)))
        # The owner of an organisation owning the site, signed in through moto's Cognito.
        created = cli("orgs", "create", "Bench", "--owner", "owner@bench.test", data_dir=stack.data_dir)
        cli("sites", "move", DOMAIN, "--org", created.stdout.strip(), data_dir=stack.data_dir)
        base = f"http://127.0.0.1:{stack.port}"
        people = importlib.import_module("people_tools")
        tokens = people.cognito_sign_in(base, "owner@bench.test", people.temporary_password(created.stderr))
        key = str(tokens["IdToken"])
        time.sleep(1.2)  # memberships are cached for 1 s locally

        def bust() -> None:
            _dev(stack.port, "/_dev/sql", {"query": BUST_SQL.format(site=stack.site_id)})

        class _Site:
            pass

        site: Any = _Site()
        site.stack, site.people = stack, {"owner": ("owner@bench.test", tokens)}
        url = f"http://127.0.0.1:{stack.port}/{DOMAIN}?period=30d"
        phases: list[dict[str, float]] = []
        server_cold, server_click = ServerLog(Path(tmp) / "dev.out"), ServerLog(Path(tmp) / "dev.out")
        with launched(sync_api, ensure_chromium()) as browser:

            def load(log: ServerLog | None = None) -> tuple[float, list[dict[str, Any]]]:
                if log is not None:
                    log.mark()
                page = _page(browser, site)
                page.goto(url)
                try:
                    _ready(page, "overview")
                except Exception:
                    print(page.inner_text("body")[:2000], file=sys.stderr)  # what the page says
                    raise
                mark = page.evaluate(READY_JS)
                bodies = [q["body"] for q in page.evaluate("window.__touchline.queries")]
                phases.append(page.evaluate(PHASES_JS))
                page.context.close()
                if log is not None:
                    log.take()
                return float(mark), bodies

            first, bodies = load()  # the first ever: ClickHouse's own caches are cold too
            cold, direct_cold, batch_cold = [], [], []
            for _ in range(3):
                bust()
                cold.append(load(server_cold)[0])
                bust()
                direct_cold.append(_round(stack.port, key, bodies))
                bust()
                batch_cold.append(_batch(stack.port, key, bodies))
            cold_phases = phases[1:]
            # A reload of the same tab: the shell draws from what the tab kept (sites, the person)
            # and sends the round at once; the result cache is cold again.
            page = _page(browser, site)
            page.goto(url)
            _ready(page, "overview")
            reloads = []
            for _ in range(3):
                bust()
                page.reload()
                _ready(page, "overview")
                reloads.append(float(page.evaluate(READY_JS)))
            page.context.close()
            warm = [load()[0] for _ in range(3)]
            warm_phases = phases[len(cold_phases) + 1 :]
            direct_warm = [_round(stack.port, key, bodies) for _ in range(3)]
            batch_warm = [_batch(stack.port, key, bodies) for _ in range(3)]
            cold_ms, direct_ms = statistics.median(cold), statistics.median(direct_cold)
            show(
                ("overview queries in one round", str(len(bodies))),
                ("overview first render, first load after aggregation (30d)", f"{first:.0f} ms"),
                ("overview first complete render, result cache cold (goal ≤ 1500 ms)", _ms(cold)),
                ("  baseline: the same round straight to the API, cache cold", _ms(direct_cold)),
                ("  ratio render / baseline", f"{cold_ms / max(direct_ms, 1):.2f}x"),
                ("  the same round as one batch request, cache cold", _ms(batch_cold)),
                ("overview after a reload of the same tab, result cache cold", _ms(reloads)),
                ("overview first complete render, result cache warm", _ms(warm)),
                ("  baseline: the same round straight to the API, cache warm", _ms(direct_warm)),
                ("  the same round as one batch request, cache warm", _ms(batch_warm)),
                *_phase_rows("cold", cold_phases),
                *_phase_rows("warm", warm_phases),
                *server_cold.rows("cold"),
            )

            page = _page(browser, site)
            page.goto(url)
            count = _ready(page, "overview")
            page.get_by_role("tab", name="Channels").click()  # the default tab: may not re-render
            count = _ready(page, "overview", count - 1)
            clicks, direct_clicks, batch_clicks = [], [], []
            click_phases: list[dict[str, float]] = []
            for channel in ("Email", "Paid Search", "Organic Social"):
                bust()
                server_click.mark()
                page.evaluate(PRESS_JS)
                called = page.evaluate("performance.now()")
                page.get_by_role("button", name=f"Filter by Channel {channel}").click()
                count = _ready(page, "overview", count)
                t0 = page.evaluate("window.__pressedAt")
                if t0 is None:
                    raise RuntimeError("the click pressed no pointer in the page")
                mark = page.evaluate(
                    "performance.getEntriesByName('touchline:overview-ready').slice(-1)[0].startTime"
                )
                clicks.append(float(mark) - float(t0))
                click_phase = page.evaluate(CLICK_PHASES_JS, float(t0))
                click_phases.append(
                    click_phase | {"called": float(t0) - float(called), "ready": float(mark) - float(t0)}
                )
                server_click.take()
                filtered = [q["body"] for q in page.evaluate("window.__touchline.queries")]
                bust()
                direct_clicks.append(_round(stack.port, key, filtered))
                bust()
                batch_clicks.append(_batch(stack.port, key, filtered))
                page.go_back()
                count = _ready(page, "overview", count)
            click_ms, click_direct = statistics.median(clicks), statistics.median(direct_clicks)
            parts_at_clicks = _parts(stack.port)
            # The same filtered round once every partition is one part, as background merges
            # leave it some minutes after an aggregation run: what the unmerged parts cost.
            _dev(stack.port, "/_dev/sql", {"query": "OPTIMIZE TABLE sessions FINAL"})
            merged_batches = []
            for _ in range(3):
                bust()
                merged_batches.append(_batch(stack.port, key, filtered))
            show(
                ("filter click to updated overview, cache cold (goal ≤ 500 ms)", _ms(clicks)),
                ("  baseline: the filtered round straight to the API, cache cold", _ms(direct_clicks)),
                ("  ratio click / baseline", f"{click_ms / max(click_direct, 1):.2f}x"),
                ("  the filtered round as one batch request, cache cold", _ms(batch_clicks)),
                ("  active parts during the clicks", parts_at_clicks),
                ("  the same batch after OPTIMIZE TABLE sessions FINAL", _ms(merged_batches)),
                ("  active parts after it", _parts(stack.port)),
                *_click_phase_rows(click_phases),
                *server_click.rows("click"),
            )
    return figures


if __name__ == "__main__":
    run(progress=True)
