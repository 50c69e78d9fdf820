"""The tag in a real browser: headless Debian chromium loads pages from a local web server, the
tag loads from `touchline dev` (which also collects), and the rows are read back with
`touchline sql`. The official `@plausible-analytics/tracker` is pointed at the same collector.

Host names are realistic: the browser maps shop.test (the site), other.test (another site) and
collector.test (the collector) to 127.0.0.1, so the tag runs cross-origin as in production.
Headless chromium says "HeadlessChrome" in its user agent, which the collector drops as a bot,
so the browser is given an ordinary Chrome user agent; and since it runs under automation
(`navigator.webdriver`), the pages set `data-allow-automation`, except where the test checks
that automated browsers are ignored.
"""

from __future__ import annotations

import gzip
import hashlib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tag_tools import (
    TOUCHLINE,
    PageServer,
    Resource,
    Stack,
    cli,
    ensure_chromium,
    ensure_node_modules,
    running_stack,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TOUCHLINE.exists(), reason="no touchline script next to python"),
    # The first test also pays for installing chromium (apt) and the npm packages on a new machine.
    pytest.mark.timeout(900),
]

playwright_api = pytest.importorskip("playwright.sync_api")

SHOP, OTHER, COLLECTOR = "shop.test", "other.test", "collector.test"
HOSTS = (SHOP, OTHER, COLLECTOR)
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)
EVENT_COLUMNS = (
    "name, event_type, visitor_id, user_id, hostname, pathname, referrer, referrer_source, channel, "
    "utm_source, utm_medium, utm_campaign, browser, device_type, props, toString(revenue) AS revenue, "
    "currency, interactive, site_id"
)


@pytest.fixture(scope="session")
def chromium() -> Path:
    return ensure_chromium()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return ensure_node_modules()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("tag-stack"), SHOP) as running:
        yield running


@pytest.fixture(scope="module")
def pages(node_modules: Path) -> Iterator[PageServer]:
    with PageServer() as server:
        server.files["/npm/"] = node_modules
        server.resources["/files/report.pdf"] = Resource(
            b"%PDF-1.4\n%%EOF\n", "application/pdf", {"Content-Disposition": "attachment"}
        )
        yield server


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary profile (--user-data-dir).
        launched = playwright.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=" + ", ".join(f"MAP {host} 127.0.0.1" for host in HOSTS),
                f"--user-agent={CHROME_UA}",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test: no cookies, no localStorage, nothing cached."""
    ctx = browser.new_context(accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def html(stack: Stack, body: str = "", head: str = "", **attrs: str | None) -> str:
    """A page with the tag served by the collector; attrs become data- attributes."""
    settings = {"allow-automation": "", **attrs}
    data = " ".join(f'data-{k}="{v}"' if v else f"data-{k}" for k, v in settings.items() if v is not None)
    src = f"http://{COLLECTOR}:{stack.port}/js/script.js"
    return (
        f"<!doctype html><html><head><title>t</title>{head}"
        f'<script defer src="{src}" {data}></script></head><body>{body}</body></html>'
    )


def shop(pages: PageServer, path: str) -> str:
    return f"http://{SHOP}:{pages.port}{path}"


def visitor_of(page: Any) -> str:
    page.wait_for_function("!!(window.touchline && window.touchline.visitorId)")
    vid: str = page.evaluate("touchline.visitorId()")
    return vid


def tracked(page: Any, script: str) -> Any:
    """Run `script` (which calls the tag with `callback: done`) and return what the callback got."""
    return page.evaluate(f"new Promise(function (done) {{ {script} }})")


def events_of(stack: Stack, where: str, count: int) -> list[dict[str, Any]]:
    query = f"SELECT {EVENT_COLUMNS} FROM events FINAL WHERE {where} ORDER BY timestamp"
    return stack.wait_for(query, lambda rows: len(rows) >= count)


def api_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/api/event" in request.url else None)
    return seen


# ------------------------------------------------------------------ the tag


def test_pageview_keeps_utm_tags_and_the_referrer(stack: Stack, pages: PageServer, page: Any) -> None:
    landing = "/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    pages.add("/landing", html(stack))
    pages.add("/from", f'<!doctype html><a id="go" href="{shop(pages, landing)}">go</a>')
    scripts: list[Any] = []
    page.on("response", lambda r: scripts.append(r) if r.url.endswith("/js/script.js") else None)
    page.goto(f"http://{OTHER}:{pages.port}/from")
    page.click("#go")
    page.wait_for_url("**/landing?*")
    vid = visitor_of(page)
    [row] = events_of(stack, f"visitor_id = '{vid}'", 1)
    assert row == {
        "name": "pageview",
        "event_type": "pageview",
        "visitor_id": vid,
        "user_id": "",
        "hostname": SHOP,
        "pathname": "/landing",
        "referrer": f"http://{OTHER}:{pages.port}/",
        "referrer_source": "newsletter",  # utm_source names the source over the referrer
        "channel": "Email",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "browser": "Chrome",
        "device_type": "desktop",
        "props": {},
        "revenue": None,
        "currency": "",
        "interactive": 1,
        "site_id": stack.site_id,
    }
    [script] = scripts
    assert script.status == 200 and script.header_value("content-encoding") == "gzip"


def test_spa_navigations_are_pageviews(stack: Stack, pages: PageServer, page: Any) -> None:
    pages.add("/spa", html(stack))
    page.goto(shop(pages, "/spa"))
    vid = visitor_of(page)
    page.evaluate("history.pushState({}, '', '/spa/orders?tab=open')")
    page.evaluate("history.pushState({}, '', '/spa/orders?tab=open')")  # same page: not a new view
    page.evaluate("history.pushState({}, '', '/spa/orders/7')")
    page.go_back()  # popstate
    rows = events_of(stack, f"visitor_id = '{vid}'", 4)
    time.sleep(1.5)  # a duplicate would have been loaded by now
    rows = stack.sql(f"SELECT name, pathname FROM events FINAL WHERE visitor_id = '{vid}'")
    assert sorted(row["pathname"] for row in rows) == ["/spa", "/spa/orders", "/spa/orders", "/spa/orders/7"]
    assert {row["name"] for row in rows} == {"pageview"}


def test_hash_routing_is_tracked_when_asked_for(stack: Stack, pages: PageServer, page: Any) -> None:
    pages.add("/hashapp", html(stack, hash=""))
    page.goto(shop(pages, "/hashapp"))
    vid = visitor_of(page)
    page.evaluate("location.hash = '#/settings'")
    page.evaluate("location.hash = '#/billing'")
    rows = events_of(stack, f"visitor_id = '{vid}'", 3)
    assert sorted(row["pathname"] for row in rows) == ["/hashapp", "/hashapp#/billing", "/hashapp#/settings"]


def test_outbound_link_click_survives_leaving_the_page(stack: Stack, pages: PageServer, page: Any) -> None:
    target = f"http://{OTHER}:{pages.port}/elsewhere?ref=shop"
    pages.add(
        "/outbound", html(stack, f'<a id="out" href="{target}">partner</a> <a id="in" href="/x">in</a>')
    )
    pages.add("/elsewhere", "<!doctype html><p>elsewhere</p>")
    page.goto(shop(pages, "/outbound"))
    vid = visitor_of(page)
    page.click("#out")
    page.wait_for_url("**/elsewhere*")
    rows = events_of(stack, f"visitor_id = '{vid}' AND name != 'pageview'", 1)
    [click] = rows
    assert (click["name"], click["event_type"], click["pathname"]) == (
        "Outbound Link: Click",
        "goal",
        "/outbound",
    )
    assert click["props"] == {"url": target}


def test_file_download_click(stack: Stack, pages: PageServer, page: Any) -> None:
    pages.add("/docs", html(stack, '<a id="dl" href="/files/report.pdf?v=2">report</a>'))
    page.goto(shop(pages, "/docs"))
    vid = visitor_of(page)
    with page.expect_download():
        page.click("#dl")
    [download] = events_of(stack, f"visitor_id = '{vid}' AND name != 'pageview'", 1)
    assert (download["name"], download["event_type"]) == ("File Download", "goal")
    assert download["props"] == {"url": shop(pages, "/files/report.pdf")}


def test_js_goal_with_revenue_including_calls_queued_before_the_tag_loaded(
    stack: Stack, pages: PageServer, page: Any
) -> None:
    snippet = (
        "<script>window.touchline = window.touchline || function () {"
        " (window.touchline.q = window.touchline.q || []).push(arguments) };"
        " touchline('Add To Cart', {props: {sku: 'TL-1'}});</script>"
    )
    pages.add("/checkout", html(stack, head=snippet))
    page.goto(shop(pages, "/checkout"))
    vid = visitor_of(page)
    result = tracked(
        page,
        "touchline('Purchase', {props: {plan: 'pro', seats: 3}, revenue: {amount: 49.99, currency: 'eur'},"
        " callback: done})",
    )
    assert result == {"status": 202}
    rows = events_of(stack, f"visitor_id = '{vid}' AND event_type = 'goal'", 2)
    goals = {row["name"]: row for row in rows}
    assert set(goals) == {"Add To Cart", "Purchase"}
    assert goals["Add To Cart"]["props"] == {"sku": "TL-1"}
    purchase = goals["Purchase"]
    assert purchase["props"] == {"plan": "pro", "seats": "3"}
    assert (purchase["revenue"], purchase["currency"]) == ("49.99", "EUR")


def test_goals_declared_in_html(stack: Stack, pages: PageServer, page: Any) -> None:
    body = (
        '<button id="signup" data-touchline-goal="Signup" data-touchline-prop-plan="pro"'
        ' data-touchline-prop-seats="3"><span id="label">Sign up</span></button>'
        '<form data-touchline-goal="Newsletter" data-touchline-prop-list="weekly"'
        ' onsubmit="event.preventDefault()"><input name="e"><button id="subscribe">Go</button></form>'
        '<p id="plain">not a goal</p>'
    )
    pages.add("/pricing", html(stack, body))
    page.goto(shop(pages, "/pricing"))
    vid = visitor_of(page)
    page.click("#label")  # a click inside the goal element counts
    page.click("#plain")
    page.click("#subscribe")  # a form goal fires on submit, not on clicks inside it
    rows = events_of(stack, f"visitor_id = '{vid}' AND event_type = 'goal'", 2)
    time.sleep(1.5)
    rows = stack.sql(
        f"SELECT name, props FROM events FINAL WHERE visitor_id = '{vid}' AND event_type = 'goal'"
    )
    assert sorted((row["name"], row["props"]) for row in rows) == [
        ("Newsletter", {"list": "weekly"}),
        ("Signup", {"plan": "pro", "seats": "3"}),
    ]


def test_identify_links_the_visitor_to_the_user_and_their_email(
    stack: Stack, pages: PageServer, page: Any
) -> None:
    email_hash = hashlib.sha256(b"ada@example.com").hexdigest()
    pages.add("/account", html(stack))
    page.goto(shop(pages, "/account"))
    vid = visitor_of(page)
    identified = tracked(
        page, f"touchline('identify', {{userId: 'user-42', emailSha256: '{email_hash}', callback: done}})"
    )
    assert identified == {"status": 202}
    assert tracked(page, "touchline('Upgrade', {callback: done})") == {"status": 202}
    links = stack.wait_for(
        "SELECT from_type, from_id, to_type, to_id, source, site_id FROM identity_links FINAL "
        f"WHERE from_id IN ('{vid}', 'user-42') OR to_id IN ('{vid}', 'user-42')",
        lambda rows: len(rows) >= 3,
    )
    assert sorted((r["from_type"], r["from_id"], r["to_type"], r["to_id"]) for r in links) == [
        ("email_sha256", email_hash, "user", "user-42"),
        ("email_sha256", email_hash, "visitor", vid),
        ("user", "user-42", "visitor", vid),
    ]
    assert {(r["source"], r["site_id"]) for r in links} == {("tag", stack.site_id)}
    rows = events_of(stack, f"visitor_id = '{vid}' AND name != 'pageview'", 2)
    by_name = {row["name"]: row for row in rows}
    assert (by_name["identify"]["event_type"], by_name["identify"]["interactive"]) == ("identify", 0)
    assert by_name["identify"]["user_id"] == by_name["Upgrade"]["user_id"] == "user-42"

    page.evaluate("touchline.reset()")  # logout: a new visitor, no user id
    assert visitor_of(page) != vid
    assert page.evaluate("localStorage.getItem('touchline_uid')") is None


def test_a_second_page_load_keeps_the_visitor_id(
    stack: Stack, pages: PageServer, context: Any, browser: Any
) -> None:
    pages.add("/one", html(stack, '<a id="next" href="/two">next</a>'))
    pages.add("/two", html(stack))
    page = context.new_page()
    page.goto(shop(pages, "/one"))
    first = visitor_of(page)
    page.click("#next")
    page.wait_for_url("**/two")
    assert visitor_of(page) == first
    page.goto(shop(pages, "/one"))  # a later visit, same browser
    assert visitor_of(page) == first
    rows = events_of(stack, f"visitor_id = '{first}'", 3)
    assert sorted(row["pathname"] for row in rows) == ["/one", "/one", "/two"]

    [cookie] = [c for c in context.cookies() if c["name"] == "touchline_vid"]
    assert (cookie["value"], cookie["domain"], cookie["sameSite"]) == (first, f".{SHOP}", "Lax")
    lifetime = datetime.fromtimestamp(cookie["expires"], UTC) - datetime.now(UTC)
    assert timedelta(days=399) < lifetime <= timedelta(days=400)
    stored = page.evaluate("localStorage.getItem('touchline_vid')")
    assert stored.startswith(first + "|")

    other = browser.new_context()
    try:
        elsewhere = other.new_page()
        elsewhere.goto(shop(pages, "/one"))
        assert visitor_of(elsewhere) != first  # another browser is another visitor
    finally:
        other.close()


def test_the_visitor_id_outlives_a_cleared_cookie_and_its_lifetime_is_configurable(
    stack: Stack, pages: PageServer, context: Any, page: Any
) -> None:
    pages.add("/short", html(stack, **{"visitor-days": "30"}))
    page.goto(shop(pages, "/short"))
    vid = visitor_of(page)
    [cookie] = [c for c in context.cookies() if c["name"] == "touchline_vid"]
    lifetime = datetime.fromtimestamp(cookie["expires"], UTC) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)
    context.clear_cookies()
    page.reload()
    assert visitor_of(page) == vid  # restored from localStorage
    assert [c["value"] for c in context.cookies() if c["name"] == "touchline_vid"] == [vid]


def test_cookieless_mode_stores_nothing_and_uses_the_daily_hash(
    stack: Stack, pages: PageServer, context: Any, page: Any
) -> None:
    pages.add("/private", html(stack, cookieless=""))
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data or "") if "/api/event" in r.url else None)
    page.goto(shop(pages, "/private"))
    page.wait_for_function("!!window.touchline")
    assert page.evaluate("touchline.visitorId()") is None
    assert tracked(page, "touchline('Cookieless Goal', {callback: done})") == {"status": 202}
    page.reload()
    page.wait_for_function("!!window.touchline")
    assert tracked(page, "touchline('Cookieless Goal', {callback: done})") == {"status": 202}
    assert bodies and not any('"vid"' in body for body in bodies)
    assert [c for c in context.cookies() if c["name"].startswith("touchline")] == []
    assert page.evaluate("Object.keys(localStorage)") == []
    rows = events_of(stack, "name = 'Cookieless Goal'", 2)
    [visitor] = {row["visitor_id"] for row in rows}  # same browser, same day: one visitor
    assert visitor.isdigit()


def test_a_refused_consent_keeps_no_visitor_id_and_the_opt_in_site_stores_none(
    stack: Stack, pages: PageServer, context: Any, page: Any
) -> None:
    added = cli("sites", "add", "consent.test", data_dir=stack.data_dir)
    assert added.returncode == 0, added.stderr
    site_id = added.stdout.split()[0]
    setting = cli("sites", "set", site_id, "--consent", "opt_in", data_dir=stack.data_dir)
    assert setting.returncode == 0, setting.stderr
    pages.add("/consent", html(stack, domain="consent.test"))
    page.goto(shop(pages, "/consent?gclid=BROWSERGCLID"))
    vid = visitor_of(page)  # no choice yet: the tag keeps an id, which the opt_in site ignores
    page.evaluate("touchline('consent', {Analytics: false, Advertising: false})")
    assert page.evaluate("touchline.visitorId()") is None
    assert tracked(page, "touchline('Refused Goal', {callback: done})") == {"status": 202}
    assert [c for c in context.cookies() if c["name"] == "touchline_vid"] == []
    assert page.evaluate("Object.keys(localStorage)") == ["touchline_consent"]
    rows = events_of(stack, f"site_id = '{site_id}'", 3)
    assert sorted(r["name"] for r in rows) == ["Refused Goal", "consent", "pageview"]  # beacons race
    assert all(r["visitor_id"].isdigit() for r in rows)
    held = stack.sql(
        "SELECT (SELECT count() FROM events WHERE position(formatRow('TSV', *), 'BROWSERGCLID') > 0)"
        f" + (SELECT count() FROM events WHERE position(formatRow('TSV', *), '{vid}') > 0) AS n"
    )
    assert held == [{"n": 0}]
    [choice] = stack.sql(f"SELECT source, categories FROM consent_events FINAL WHERE site_id = '{site_id}'")
    assert choice == {"source": "tag", "categories": {"Analytics": 0, "Advertising": 0}}

    page.evaluate("touchline('consent', {Analytics: true, Advertising: true})")
    granted = visitor_of(page)
    assert granted and granted != vid
    assert tracked(page, "touchline('Granted Goal', {callback: done})") == {"status": 202}
    [goal] = events_of(stack, f"site_id = '{site_id}' AND name = 'Granted Goal'", 1)
    assert goal["visitor_id"] == granted


@pytest.mark.parametrize(
    ("attrs", "setup", "reason"),
    [
        ({"allow-automation": None}, "", "automated browser"),
        ({}, "localStorage.setItem('touchline_ignore', 'true')", "opted out"),
        ({}, "localStorage.setItem('plausible_ignore', 'true')", "opted out"),
    ],
)
def test_automated_browsers_and_opted_out_visitors_send_nothing(
    stack: Stack, pages: PageServer, page: Any, attrs: dict[str, str | None], setup: str, reason: str
) -> None:
    path = f"/ignored-{abs(hash(reason + setup))}"
    pages.add(path, html(stack, **attrs))
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    sent = api_requests(page)
    if setup:
        page.goto(shop(pages, "/blank-" + path.strip("/")))
        page.evaluate(setup)
    page.goto(shop(pages, path))
    page.wait_for_function("!!window.touchline")
    assert tracked(page, "touchline('Ignored', {callback: done})") is None  # called back, nothing sent
    assert sent == []
    assert f"Touchline ignored pageview: {reason}" in warnings


def test_localhost_is_ignored_unless_asked_for(stack: Stack, pages: PageServer, page: Any) -> None:
    pages.add("/local", html(stack))
    pages.add("/local-tracked", html(stack, **{"track-localhost": ""}))
    sent = api_requests(page)
    page.goto(f"http://localhost:{pages.port}/local")
    page.wait_for_function("!!window.touchline")
    assert tracked(page, "touchline('Local', {callback: done})") is None
    assert sent == []
    page.goto(f"http://127.0.0.1:{pages.port}/local-tracked")
    page.wait_for_function("!!window.touchline")
    # Sent; the collector answers 404 since no site is registered for 127.0.0.1.
    assert tracked(page, "touchline('Local', {callback: done})") == {"status": 404}
    assert len(sent) == 2


def test_data_api_sends_to_another_endpoint(stack: Stack, pages: PageServer, page: Any) -> None:
    """A site proxying the collector through its own domain: data-api names the endpoint."""
    pages.add("/proxied", html(stack, api=f"http://{COLLECTOR}:{stack.port}/api/event?via=proxy"))
    sent = api_requests(page)
    page.goto(shop(pages, "/proxied"))
    vid = visitor_of(page)
    events_of(stack, f"visitor_id = '{vid}'", 1)
    assert sent and all(url.endswith("/api/event?via=proxy") for url in sent)


def test_a_site_switching_from_plausibles_script_keeps_its_plausible_calls(
    stack: Stack, pages: PageServer, page: Any
) -> None:
    """Plausible's own snippet, with only the script URL changed to the collector's."""
    stub = (
        "<script>window.plausible = window.plausible || function () {"
        " (window.plausible.q = window.plausible.q || []).push(arguments) };"
        " plausible('Trial Started', {props: {plan: 'team'}});</script>"
    )
    pages.add("/was-plausible", html(stack, head=stub, domain=SHOP))
    page.goto(shop(pages, "/was-plausible"))
    vid = visitor_of(page)
    assert tracked(page, "plausible('Signup', {props: {via: 'plausible()'}, callback: done})") == {
        "status": 202
    }
    rows = events_of(stack, f"visitor_id = '{vid}' AND event_type = 'goal'", 2)
    assert sorted((row["name"], row["props"]) for row in rows) == [
        ("Signup", {"via": "plausible()"}),
        ("Trial Started", {"plan": "team"}),
    ]


# ------------------------------------------------------------------ serving the tag


def test_the_collector_serves_the_tag_gzipped_with_an_etag(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.port}/js/script.js"
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body, headers = response.read(), response.headers
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert len(body) <= 2200  # the tag's budget (tests/unit/tag/test_asset.py)
    minified = Path(__file__).resolve().parents[2] / "layers/touchline/touchline/tag/touchline.min.js"
    assert gzip.decompress(body) == minified.read_bytes()
    revalidate = urllib.request.Request(url, headers={"If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(revalidate, timeout=10)
    assert not_modified.value.code == 304


# ------------------------------------------------------------------ switching from Plausible


def test_the_official_plausible_tracker_works_by_changing_its_endpoint(
    stack: Stack, pages: PageServer, page: Any
) -> None:
    endpoint = f"http://{COLLECTOR}:{stack.port}/api/event"
    module = (
        "<script type=module>"
        "import { init, track } from '/npm/@plausible-analytics/tracker/plausible.js';"
        # The tracker ignores automated browsers unless its own test flag is set.
        "window.__plausible = true;"
        f"init({{ domain: '{SHOP}', endpoint: '{endpoint}', outboundLinks: true }});"
        "window.plausibleTrack = track;"
        "</script>"
    )
    path = "/from-plausible"
    pages.add(path, f"<!doctype html><html><head>{module}</head><body><p>hello</p></body></html>")
    page.goto(shop(pages, path + "?utm_source=plausible&utm_medium=switch"))
    page.wait_for_function("!!window.plausibleTrack")
    result = page.evaluate(
        "new Promise(function (done) { plausibleTrack('Signup', {props: {plan: 'pro'},"
        " revenue: {amount: '12.50', currency: 'USD'}, callback: done}) })"
    )
    assert result == {"status": 202}
    rows = events_of(stack, f"pathname = '{path}' AND name IN ('pageview', 'Signup')", 2)
    by_name = {row["name"]: row for row in rows}
    pageview, signup = by_name["pageview"], by_name["Signup"]
    assert (pageview["utm_source"], pageview["utm_medium"], pageview["browser"]) == (
        "plausible",
        "switch",
        "Chrome",
    )
    assert (signup["event_type"], signup["props"], signup["revenue"], signup["currency"]) == (
        "goal",
        {"plan": "pro"},
        "12.5",
        "USD",
    )
    # No first-party id: both rows carry the same cookieless daily hash.
    assert pageview["visitor_id"] == signup["visitor_id"] and pageview["visitor_id"].isdigit()
