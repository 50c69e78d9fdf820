"""The dashboard's views on the real query API and the real accounts API, in Chromium, against
`touchline dev` with known data (tests/e2e/dashboard_world.py: hits over HTTP, a goal, orders
through the payments API and Shopify, the aggregation run; an organisation owning the site, with
an owner, an editor and a viewer invited through moto's Cognito). The numbers on screen are read
from the DOM and compared with the query API's answers to the test's own queries.

People sign in for real: one test through the sign-in page (first sign-in, new password); the
others start with that person's Cognito tokens where the dashboard keeps them, so every request
carries a token the stack's JWT authorizer verifies, and every query goes through
`POST /api/v1/query` with that person's rights. Shared links are made through the management API
and opened as a visitor opens them.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dashboard_tools import WIDTHS, PageErrors, axe_violations, screenshot
from dashboard_world import DESKTOP, DOMAIN, VISITS, Site, http, ok, signed_in_page, wait_ready
from people_tools import NEW_PASSWORD, temporary_password
from tag_tools import TOUCHLINE, PageServer, cli

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TOUCHLINE.exists(), reason="no touchline script next to python"),
    pytest.mark.timeout(900),
]

pytest.importorskip("playwright.sync_api")


@pytest.fixture
def site(dashboard_site: Site) -> Site:
    return dashboard_site


@pytest.fixture
def browser(dashboard_browser: Any) -> Any:
    return dashboard_browser


_page, _ready = signed_in_page, wait_ready


def _number(text: str) -> float:
    cleaned = re.sub(r"[^\d.\-]", "", text)
    return float(cleaned) if cleaned else 0.0


def _days(days: int) -> list[str]:
    today = datetime.now(UTC).date()
    return [(today - timedelta(days=days - 1)).isoformat(), today.isoformat()]


def _list(page: Any, dimension: str) -> dict[str, list[str]]:
    rows = page.locator(f'[data-testid="list-{dimension}"] tbody tr')
    return {
        rows.nth(i).get_attribute("data-name"): [
            c.strip() for c in rows.nth(i).locator("td").all_inner_texts()
        ]
        for i in range(rows.count())
    }


def test_overview_numbers_equal_the_query_api(site: Site, browser: Any) -> None:
    page = _page(browser, site)
    errors = PageErrors(page)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}?period=7d")
    _ready(page, "overview")
    stats = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
    answer = site.query({"metrics": stats, "date_range": _days(7)})["results"][0]["metrics"]
    shown = {m: page.get_by_test_id(f"stat-{m}").inner_text() for m in stats}
    assert _number(shown["visitors"]) == answer[0] == len(VISITS)
    assert _number(shown["visits"]) == answer[1]
    assert _number(shown["pageviews"]) == answer[2]
    assert shown["bounce_rate"] == f"{answer[3]:g}%"
    # Conversion rate: visitors who completed any goal (here the one goal, Signup).
    rate = site.query(
        {
            "metrics": ["conversion_rate"],
            "date_range": _days(7),
            "filters": [["is", "event:goal", ["Signup"]]],
        }
    )["results"][0]["metrics"][0]
    assert _number(page.get_by_test_id("stat-conversion_rate").inner_text()) == pytest.approx(rate)

    channels = site.query(
        {
            "metrics": ["visitors"],
            "date_range": _days(7),
            "dimensions": ["visit:channel"],
            "pagination": {"limit": 10},
        }
    )["results"]
    page.get_by_role("tab", name="Channels").click()
    _ready(page, "overview", 0)
    listed = _list(page, "visit:channel")
    assert {r["dimensions"][0]: r["metrics"][0] for r in channels} == {
        k: _number(v[0]) for k, v in listed.items()
    }
    pages = site.query(
        {
            "metrics": ["visitors", "pageviews"],
            "date_range": _days(7),
            "dimensions": ["event:page"],
            "pagination": {"limit": 10},
        }
    )["results"]
    assert {r["dimensions"][0]: r["metrics"] for r in pages} == {
        k: [_number(x) for x in v] for k, v in _list(page, "event:page").items()
    }
    assert errors.errors == []


def test_clicking_a_row_filters_everything_and_the_url_keeps_it(site: Site, browser: Any) -> None:
    page = _page(browser, site)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}?period=7d")
    renders = _ready(page, "overview")
    page.get_by_role("tab", name="Channels").click()
    renders = _ready(page, "overview", renders - 1)
    started = time.perf_counter()
    page.get_by_role("button", name="Filter by Channel Email").click()
    renders = _ready(page, "overview", renders)
    elapsed = time.perf_counter() - started
    assert "f=is%2Cvisit%3Achannel%2CEmail" in page.url
    chip = page.get_by_test_id("filter-chip")
    assert chip.inner_text().startswith("Channel is Email")
    filtered = site.query(
        {
            "metrics": ["visitors", "pageviews"],
            "date_range": _days(7),
            "filters": [["is", "visit:channel", ["Email"]]],
        }
    )["results"][0]["metrics"]
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == filtered[0] == 4
    assert _number(page.get_by_test_id("stat-pageviews").inner_text()) == filtered[1]
    # The URL alone restores the view (a bookmark, a shared address).
    again = _page(browser, site)
    again.goto(page.url)
    _ready(again, "overview")
    assert _number(again.get_by_test_id("stat-visitors").inner_text()) == 4
    # Removing the chip brings the whole site back.
    page.get_by_role("button", name=re.compile("Remove filter Channel is Email")).click()
    _ready(page, "overview", renders)
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == len(VISITS)
    print(f"\ndashboard: filter click to updated overview {elapsed * 1000:.0f} ms (small data)")


def test_keyboard_picks_periods_and_tabs(site: Site, browser: Any) -> None:
    page = _page(browser, site)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}")
    renders = _ready(page, "overview")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    period = page.get_by_test_id("period")
    period.focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("dialog", name="Choose a period").is_visible()
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog", name="Choose a period").count() == 0
    assert page.evaluate("document.activeElement.dataset.testid") == "period"
    page.keyboard.press("w")  # Last 7 days
    renders = _ready(page, "overview", renders)
    assert "period=7d" in page.url and period.inner_text().endswith("Last 7 days ▾")
    tab = page.get_by_role("tab", name="Top pages")
    tab.focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Entry pages").get_attribute("aria-selected") == "true"
    _ready(page, "overview", renders)


def test_attribution_shows_every_model_as_the_api_credits_them(site: Site, browser: Any) -> None:
    page = _page(browser, site)  # the owner may change the window
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}/attribution?period=7d")
    _ready(page, "attribution")
    models = ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"]
    models += ["markov", "markov_k2", "markov_k3", "shapley"]  # data-driven: too few journeys here
    answered = site.query(
        {
            "metrics": [f"attributed_conversions:{m}" for m in models],
            "date_range": _days(7),
            "dimensions": ["visit:channel"],
        }
    )
    answer = answered["results"]
    warnings = answered["meta"]["metric_warnings"]
    assert {w["code"] for w in warnings.values()} == {"model_not_fitted"}
    page.get_by_role("button", name="Conversions").click()
    table = page.get_by_test_id("models-table")
    for row in answer:
        channel = row["dimensions"][0]
        cells = table.locator(f'tr[data-name="{channel}"] td .cell-value').all_inner_texts()
        assert [_number(c) for c in cells] == pytest.approx(row["metrics"], abs=0.005), channel
    # The models the API could not fit say why, in the API's words, instead of showing zeros.
    notes = page.get_by_test_id("not-fitted").inner_text()
    assert warnings["attributed_conversions:markov"]["warning"] in notes and "Shapley" in notes
    assert "Markov, order 2" in notes and "Markov, order 3" in notes
    # Only clicks credited: the same table from include.attribution_touches.
    page.get_by_role("button", name="Clicks only").click()
    _ready(page, "attribution", 1)
    assert "touches=clicks_only" in page.url
    clicks = site.query(
        {
            "metrics": [f"attributed_conversions:{m}" for m in models[:6]],
            "date_range": _days(7),
            "dimensions": ["visit:channel"],
            "include": {"attribution_touches": "clicks_only"},
        }
    )["results"]
    for row in clicks:
        cells = table.locator(f'tr[data-name="{row["dimensions"][0]}"] td .cell-value').all_inner_texts()
        assert [_number(c) for c in cells[:6]] == pytest.approx(row["metrics"], abs=0.005)
    paths = page.get_by_test_id("paths-table").locator("tbody tr")
    assert paths.count() >= 1
    assert (
        page.get_by_test_id("attribution-window").get_by_label("Lookback window (days)").input_value() == "30"
    )
    page.get_by_test_id("model-docs").locator("summary", has_text="Time decay").click()
    assert "half-life" in page.get_by_test_id("model-docs").inner_text()
    page.get_by_test_id("model-docs").locator("summary", has_text="Markov, order 3").click()
    assert "order k = 1, 2, 3" in page.get_by_test_id("model-docs").inner_text()
    # A saved window is what the page shows from then on, without a reload (the shell's copy of
    # the site is loaded again); put back afterwards, the rest of the module reads 30 days.
    window = page.get_by_test_id("attribution-window")
    window.get_by_label("Lookback window (days)").fill("45")
    window.get_by_role("button", name="Save").click()
    window.get_by_role("status").wait_for()
    nav = page.get_by_role("navigation", name="Pages")
    nav.get_by_role("link", name="Overview").click()
    _ready(page, "overview")
    nav.get_by_role("link", name="Attribution").click()
    assert window.get_by_label("Lookback window (days)").input_value() == "45"
    status, _ = site.api("PATCH", f"/api/v1/sites/{site.stack.site_id}", body={"lookback_days": 30})
    assert status == 200


def test_revenue_per_currency_equals_the_api(site: Site, browser: Any) -> None:
    page = _page(browser, site)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}/revenue?period=7d")
    _ready(page, "revenue")
    answer = site.query(
        {"metrics": ["orders", "net_revenue"], "date_range": _days(7), "dimensions": ["revenue:currency"]}
    )["results"]
    table = page.get_by_test_id("revenue-table")
    for row in answer:
        currency = row["dimensions"][0]
        orders = table.locator(f'tr[data-name="{currency}"] td[data-metric="orders"]').inner_text()
        net = table.locator(f'tr[data-name="{currency}"] td[data-metric="net_revenue"]').inner_text()
        assert _number(orders) == row["metrics"][0]
        assert net == row["metrics"][1]["long"]
    assert {r["dimensions"][0] for r in answer} == {"EUR", "USD"}


@pytest.mark.parametrize("path", ["", "/attribution", "/revenue", "/customers", "/products"])
def test_pages_are_accessible_at_both_widths_in_both_schemes(site: Site, browser: Any, path: str) -> None:
    """One load per page, then each width and colour scheme as a person switches them (the
    layout and the chart follow both without a reload)."""
    view = path.strip("/") or "overview"
    page = _page(browser, site, width=WIDTHS[0])
    errors = PageErrors(page)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}{path}?period=7d")
    _ready(page, view)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(300)  # the map and charts draw after the data, and again on a change
            background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            assert (background == "rgb(15, 17, 23)") == (scheme == "dark"), (view, width, scheme)
            screenshot(page, f"{view}-{width}-{scheme}")
            assert axe_violations(page) == [], (view, width, scheme)
    assert errors.errors == []
    page.context.close()


def _snapshot(site: Site, body: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = site.query({"date_range": "all", **body})["results"]
    return results


def test_customers_page_shows_segments_and_the_rfm_grid_as_the_api_answers(site: Site, browser: Any) -> None:
    page = _page(browser, site)
    errors = PageErrors(page)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}/customers")
    _ready(page, "customers")
    # The currency with the most customers first (USD: the two Shopify buyers; EUR: the two
    # visitors who paid through the payments API are tied with it, so pick USD explicitly).
    page.get_by_test_id("currency").select_option("USD")
    _ready(page, "customers", 1)
    only = [["is", "customer:currency", ["USD"]]]
    segments = _snapshot(
        site,
        {
            "metrics": ["customers", "customer_net_revenue"],
            "dimensions": ["customer:segment"],
            "filters": only,
        },
    )
    listed = _list(page, "segments")
    assert set(listed) == {r["dimensions"][0] for r in segments}
    for r in segments:
        shown = listed[r["dimensions"][0]]
        assert _number(shown[0]) == r["metrics"][0]
        assert shown[1] == r["metrics"][1]["long"]
    assert sum(r["metrics"][0] for r in segments) == 2
    grid = _snapshot(
        site,
        {
            "metrics": ["customers"],
            "dimensions": ["customer:recency_score", "customer:fm_score"],
            "filters": only,
        },
    )
    cells = page.get_by_test_id("rfm-table").locator("td")
    assert cells.count() == 25
    shown_cells = {
        (cells.nth(i).get_attribute("data-r"), cells.nth(i).get_attribute("data-fm")): int(
            cells.nth(i).get_attribute("data-count") or 0
        )
        for i in range(25)
    }
    expected = {(r["dimensions"][0], r["dimensions"][1]): r["metrics"][0] for r in grid}
    assert {k: v for k, v in shown_cells.items() if v} == expected
    # Two customers per currency are too few for the BG/NBD fit: the churn card says so.
    assert "model is fitted once" in page.get_by_test_id("churn").inner_text()
    assert errors.errors == []


def test_products_page_shows_top_products_trends_and_bought_together(site: Site, browser: Any) -> None:
    page = _page(browser, site)
    errors = PageErrors(page)
    page.goto(f"http://127.0.0.1:{site.stack.port}/{DOMAIN}/products")
    _ready(page, "products")
    top = _snapshot(
        site,
        {
            "metrics": ["product_revenue_30d", "product_quantity_30d"],
            "dimensions": ["product:id"],
            "filters": [["is", "product:currency", ["USD"]]],
            "order_by": [["product_revenue_30d", "desc"]],
        },
    )
    listed = _list(page, "products")
    assert list(listed) == [r["dimensions"][0] for r in top] and len(top) == 3
    for r in top:
        assert listed[r["dimensions"][0]][0] == r["metrics"][0]["long"]
        assert _number(listed[r["dimensions"][0]][1]) == r["metrics"][1]
    # Choosing a product shows its sales and what is bought with it.
    # 701 is in every order with 700 (four co-purchases, above the default threshold of three).
    page.get_by_test_id("list-products").locator('tr[data-name="701"] button').click()
    _ready(page, "products", 1)
    units = sum(
        r["metrics"][0]
        for r in site.query(
            {
                "metrics": ["sales_units"],
                "date_range": "30d",
                "filters": [["is", "product:id", ["701"]]],
            }
        )["results"]
    )
    assert page.get_by_test_id("trend-units").inner_text().startswith(f"{units} units")
    together = _snapshot(
        site,
        {
            "metrics": ["co_purchases", "basket_lift"],
            "dimensions": ["basket:product_b"],
            "filters": [["is", "basket:product_a", ["701"]]],
        },
    )
    rows = page.get_by_test_id("together-table").locator("tbody tr")
    shown = {
        rows.nth(i).get_attribute("data-name"): rows.nth(i).locator("td").all_inner_texts()
        for i in range(rows.count())
    }
    assert {r["dimensions"][0]: r["metrics"][0] for r in together} == {"700": 4}
    assert {k: int(_number(v[0])) for k, v in shown.items()} == {"700": 4}
    assert errors.errors == []


def test_a_person_signs_in_for_the_first_time_and_switches_between_their_sites(
    site: Site, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = PageErrors(page)
    page.goto(f"{site.base}/")
    email, temporary = site.newcomer
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Sign in").click()
    # Cognito's NEW_PASSWORD_REQUIRED, answered on the page.
    page.get_by_role("heading", name="Choose your password").wait_for()
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat it").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    renders = _ready(page, "overview")
    assert page.get_by_text(email).is_visible()
    # The first of their sites opens; the switcher offers the organisation's two, not Elsewhere's.
    visitors = {DOMAIN: len(VISITS), "blog.shop.test": 0}
    first = page.url.removeprefix(f"{site.base}/").split("?")[0]
    assert first in visitors
    switcher = page.get_by_label("Site")
    assert sorted(switcher.locator("option").all_inner_texts()) == sorted(visitors)
    other = next(d for d in visitors if d != first)
    switcher.select_option(other)
    page.wait_for_url(f"{site.base}/{other}**")
    _ready(page, "overview", renders)
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == visitors[other]
    # A site of another organisation is not there, whatever the address says.
    page.goto(f"{site.base}/elsewhere.test")
    page.get_by_role("heading", name="No site elsewhere.test").wait_for()
    # Signing out ends the session: the next load asks to sign in.
    page.goto(f"{site.base}/{DOMAIN}")
    _ready(page, "overview")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to Touchline").wait_for()
    page.goto(f"{site.base}/{DOMAIN}")
    page.get_by_role("heading", name="Sign in to Touchline").wait_for()
    assert errors.errors == []
    context.close()


def test_a_viewer_sees_no_settings_and_an_editor_sees_only_theirs(site: Site, browser: Any) -> None:
    viewer = _page(browser, site, role="viewer")
    viewer.goto(f"{site.base}/{DOMAIN}")
    _ready(viewer, "overview")
    nav = viewer.get_by_role("navigation", name="Pages")
    assert nav.get_by_role("link").all_inner_texts() == [
        "Overview",
        "Realtime",
        "Attribution",
        "Revenue",
        "Funnels",  # viewers hold goals:read
        "Customers",
        "Products",
    ]
    # Realtime: what GET /api/v1/realtime answers for the viewer, on the page.
    viewer.goto(f"{site.base}/{DOMAIN}/realtime")
    _ready(viewer, "realtime")
    shown = viewer.get_by_test_id("realtime-visitors").inner_text()
    assert shown.isdigit() and viewer.get_by_test_id("realtime-chart").count() == 1
    viewer.goto(f"{site.base}/{DOMAIN}/settings")
    viewer.get_by_text("not available to you").wait_for()
    # Nor can the window be edited from the attribution page.
    viewer.goto(f"{site.base}/{DOMAIN}/attribution?period=7d")
    _ready(viewer, "attribution")
    window = viewer.get_by_test_id("attribution-window")
    assert window.get_by_role("button", name="Save").count() == 0
    viewer.context.close()
    editor = _page(browser, site, role="editor")
    editor.goto(f"{site.base}/{DOMAIN}/settings")
    editor.get_by_role("navigation", name="Settings").wait_for()
    sections = editor.get_by_role("navigation", name="Settings").get_by_role("link").all_inner_texts()
    assert sections == [
        "Site",
        "Goals",
        "Integrations",
        "Shared links",
        "Annotations",
        "Webhooks",
        "Add a site",
    ]
    editor.context.close()


def _link(site: Site, password: str | None = None) -> str:
    body = {"name": "board", **({"password": password} if password else {})}
    status, created = site.api("POST", f"/api/v1/sites/{site.stack.site_id}/shared-links", body=body)
    assert status == 201, created
    return str(created["link"])


def test_a_shared_link_shows_one_site_read_only_and_embeds_in_an_iframe(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    link = _link(site)
    page.goto(f"{site.base}/share/{link}?period=7d")
    _ready(page, "overview")
    # Products, not Customers: a link anyone may hold shows no customer-level rows.
    assert page.get_by_role("navigation", name="Pages").get_by_role("link").all_inner_texts() == [
        "Overview",
        "Realtime",
        "Attribution",
        "Revenue",
        "Products",
    ]
    assert page.locator(".site-switcher").count() == 0 and page.get_by_text("Sign out").count() == 0
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == len(VISITS)
    # Its session token reads this site only: the query API refuses the organisation's other one.
    token = page.evaluate(
        "JSON.parse(sessionStorage.getItem('tl.shared.' + location.pathname.split('/')[2])).token"
    )
    other = urllib.request.Request(
        f"{site.base}/api/v2/query",
        data=json.dumps({"site_id": site.other_site, "metrics": ["visitors"], "date_range": "7d"}).encode(),
        method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(other, timeout=30)
    assert refused.value.code in (401, 403, 404)
    # Another origin's page embeds it (frame-ancestors *; the app's other pages say DENY).
    embed = (
        f'<!doctype html><title>embed</title><iframe title="stats" width="1000" height="800" '
        f'src="{site.base}/share/{link}?period=7d"></iframe>'
    )
    with PageServer() as server:
        server.add("/embed", embed)
        host = context.new_page()
        host.goto(f"http://127.0.0.1:{server.port}/embed")
        frame = host.frame_locator("iframe")
        try:
            frame.get_by_test_id("stat-visitors").filter(has_text=re.compile(r"\d")).wait_for(timeout=60_000)
        finally:
            screenshot(host, "shared-embedded-1280-light")
        assert _number(frame.get_by_test_id("stat-visitors").inner_text()) == len(VISITS)
    context.close()


def test_a_password_protected_link_asks_for_its_password(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    link = _link(site, password="board-passw0rd")
    page.goto(f"{site.base}/share/{link}?period=7d")
    page.get_by_role("heading", name="This dashboard is protected").wait_for()
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Open").click()
    page.get_by_role("alert").wait_for()
    page.get_by_label("Password").fill("board-passw0rd")
    page.get_by_role("button", name="Open").click()
    _ready(page, "overview")
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == len(VISITS)
    screenshot(page, "shared-password-390-light")
    context.close()


def _message(page: Any, expected: str) -> str:
    """The form's answer once it says `expected` (the API's own words on an error)."""
    message = page.get_by_test_id("form-message").filter(has_text=expected)
    message.wait_for(timeout=30_000)
    return str(message.inner_text())


def test_every_settings_form_works_through_the_management_api(site: Site, browser: Any) -> None:
    """The owner changes the organisation's other site (the rest of this module reads shop.test)."""
    page = _page(browser, site)
    errors = PageErrors(page)
    settings = f"{site.base}/blog.shop.test/settings"
    other = f"/api/v1/sites/{site.other_site}"

    page.goto(f"{settings}/site")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Attribution window (days)").fill("400")
    page.get_by_role("button", name="Save").click()
    assert "365" in _message(page, "365")  # the API's validation message, as it says it
    page.get_by_label("Attribution window (days)").fill("21")
    page.get_by_role("button", name="Save").click()
    _message(page, "Saved")
    stored = site.api("GET", other)[1]
    assert (stored["timezone"], stored["lookback_days"]) == ("Europe/Berlin", 21)
    page.reload()  # what the form shows is what the API keeps
    assert page.get_by_label("Time zone").input_value() == "Europe/Berlin"

    page.goto(f"{settings}/goals")
    page.get_by_label("Event name").fill("Purchase")
    page.get_by_label("Value per conversion (optional)").fill("abc")
    page.get_by_role("button", name="Add goal").click()
    page.get_by_test_id("form-message").and_(page.get_by_role("alert")).wait_for()
    page.get_by_label("Value per conversion (optional)").fill("12.50")
    page.get_by_label("Currency (with a value)").fill("EUR")
    page.get_by_role("button", name="Add goal").click()
    _message(page, "Added Purchase")
    page.get_by_test_id("goals-table").locator('tr[data-name="Purchase"]').wait_for()
    [added] = site.api("GET", f"{other}/goals")[1]
    assert (added["name"], added["value"], added["currency"]) == ("Purchase", "12.50", "EUR")
    # Edited in the same form: renamed, made a page goal, its value removed; the id stays.
    page.get_by_role("button", name="Edit goal Purchase").click()
    page.get_by_role("heading", name="Edit goal Purchase").wait_for()
    assert page.get_by_label("Value per conversion (optional)").input_value() == "12.50"
    page.get_by_label("Goal name").fill("Thanks")
    page.locator("select[name=goal-method]").select_option("page_url")
    page.get_by_label("Page pattern (* within a segment, ** across: /blog/*, /docs/**)").fill("/thank-you/*")
    page.get_by_label("Value per conversion (optional)").fill("")
    page.get_by_role("button", name="Save goal").click()
    _message(page, "Saved Thanks")
    page.get_by_test_id("goals-table").locator('tr[data-name="Thanks"]').wait_for()
    [edited] = site.api("GET", f"{other}/goals")[1]
    assert (edited["id"], edited["track_method"], edited["page_pattern"], edited["value"]) == (
        added["id"],
        "page_url",
        "/thank-you/*",
        None,
    )
    page.get_by_role("button", name="Remove goal Thanks").click()
    _message(page, "Removed Thanks")
    assert site.api("GET", f"{other}/goals")[1] == []

    # A funnel defined on the Funnels page and deleted there.
    page.goto(f"{site.base}/blog.shop.test/funnels?period=7d")
    _ready(page, "funnels")
    page.get_by_label("Funnel name").fill("Docs")
    page.get_by_label(
        "Steps, one per line: a page pattern (/pricing, /blog/*) or a goal's name (2 to 8)"
    ).fill("/\n/docs/**")
    page.get_by_role("button", name="Define funnel").click()
    _message(page, "Defined Docs")
    page.get_by_role("button", name="Delete funnel Docs").click()
    page.get_by_test_id("funnel-message").get_by_text("Deleted Docs.").wait_for()
    assert site.api("GET", f"/api/v1/funnels?site_id={site.other_site}")[1] == []

    page.goto(f"{settings}/integrations")
    page.get_by_label("Signing secret").fill("whsec_dashboard_test_secret_1234")
    page.get_by_role("button", name="Connect").click()
    _message(page, "Connected stripe")
    url = page.get_by_test_id("webhook-url").inner_text()
    assert url.endswith(f"/webhooks/stripe/{site.other_site}"), url
    page.get_by_test_id("integrations-table").locator('tr[data-name="stripe"]').wait_for()

    page.goto(f"{settings}/api-keys")
    page.get_by_label("Name").fill("wallboard")
    page.get_by_role("button", name="Create key").click()
    _message(page, "Created a stats:read key")
    key = page.get_by_test_id("secret").locator("code").inner_text()
    assert key.startswith("tlk_")
    site.query({"site_id": site.other_site, "metrics": ["visitors"], "date_range": "7d"}, key=key)
    page.get_by_role("button", name="Revoke key wallboard").click()
    _message(page, "Revoked wallboard")
    keys = site.api("GET", f"/api/v1/orgs/{site.org_id}/api-keys")[1]
    assert [k["revoked_at"] is not None for k in keys if k["name"] == "wallboard"] == [True]

    page.goto(f"{settings}/members")
    page.get_by_label("Email").fill("guest@shop.test")
    page.locator("select[name=invite-role]").select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    page.get_by_test_id("secret").wait_for()  # the temporary password, locally
    page.get_by_label("Role of guest@shop.test").select_option("editor")
    _message(page, "guest@shop.test is now editor")
    members = {m["email"]: m["role"] for m in site.api("GET", f"/api/v1/orgs/{site.org_id}/members")[1]}
    assert members["guest@shop.test"] == "editor"
    page.get_by_role("button", name="Remove guest@shop.test").click()
    _message(page, "Removed guest@shop.test")

    page.goto(f"{settings}/shared-links")
    page.get_by_label("Name").fill("wall")
    page.get_by_label("Password (optional, 8+ characters)").fill("short")
    page.get_by_role("button", name="Create link").click()
    page.get_by_test_id("form-message").and_(page.get_by_role("alert")).wait_for()
    page.get_by_label("Password (optional, 8+ characters)").fill("")
    page.get_by_role("button", name="Create link").click()
    _message(page, "Anyone with the link")
    shared = page.get_by_test_id("secret").locator("code").inner_text()
    assert f"{site.base}/share/tlsh_" in shared
    visitor = browser.new_context()
    opened = visitor.new_page()
    opened.goto(shared)
    _ready(opened, "overview")
    assert opened.locator(".site-name").inner_text() == "blog.shop.test"
    visitor.close()
    page.get_by_role("button", name="Revoke link wall").click()
    _message(page, "Revoked")

    # Annotations: added here, drawn on the overview's chart (the site's local yesterday, in 7d).
    day = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(days=1)).date().isoformat()
    page.goto(f"{settings}/annotations")
    page.get_by_label("Date").fill(day)
    page.get_by_label("Note", exact=True).fill("Newsletter sent")
    page.get_by_label("Tags (comma separated)").fill("Email, promo")
    page.get_by_role("button", name="Add annotation").click()
    _message(page, "Added")
    [note] = site.api("GET", f"/api/v1/annotations?site_id={site.other_site}")[1]
    assert (note["date"], note["content"], note["tags"]) == (day, "Newsletter sent", ["email", "promo"])
    page.goto(f"{site.base}/blog.shop.test?period=7d")
    _ready(page, "overview")
    drawn = page.get_by_test_id("chart-annotations").locator(f'li[data-date="{day}"]')
    assert "Newsletter sent" in drawn.inner_text()

    # Webhooks: subscribed (the secret shown once), a test event queued, paused.
    page.goto(f"{settings}/webhooks")
    page.get_by_label("URL (https)").fill("http://127.0.0.1:9/hook")  # loopback: the dev stack allows it
    page.get_by_role("button", name="Add webhook").click()
    _message(page, "Added")
    assert page.get_by_test_id("secret").locator("code").inner_text().startswith("whsec_")
    [hook] = site.api("GET", f"/api/v1/webhooks?site_id={site.other_site}")[1]
    assert hook["events"] == ["purchase.created"] and hook["active"]
    row = page.get_by_test_id("webhooks-table").locator(f'tr[data-id="{hook["id"]}"]')
    row.get_by_role("button", name="Send test event").click()
    _message(page, "Test event queued")
    page.get_by_role("heading", name="Last deliveries").wait_for()
    row.get_by_role("button", name="Pause").click()
    _message(page, "Paused")
    assert site.api("GET", f"/api/v1/webhooks/{hook['id']}")[1]["active"] is False

    page.goto(f"{settings}/usage")
    usage = site.api("GET", f"/api/v1/usage?org_id={site.org_id}")[1]
    assert _number(page.get_by_test_id("usage-events").inner_text()) == usage["events"]

    # The audit log is written through the events queue: it shows what was just done.
    deadline = time.monotonic() + 60
    while True:
        page.goto(f"{settings}/audit")
        page.get_by_role("heading", name="Audit log", exact=True).wait_for()
        table = page.get_by_test_id("audit-table")
        # The heading draws at once from the tab's kept sites; the log's answer comes after it.
        table.or_(page.get_by_text("Nothing recorded yet.")).wait_for()
        actions = set(table.locator("tbody tr td:nth-child(3)").all_inner_texts()) if table.count() else set()
        wanted = {
            "site.update",
            "goal.create",
            "goal.update",
            "goal.delete",
            "api_key.create",
            "member.invite",
        }
        if wanted <= actions or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert wanted <= actions, actions
    assert errors.errors == []


def test_done_when_a_new_user_adds_a_site_sends_hits_and_a_payment_and_sees_them(
    site: Site, browser: Any
) -> None:
    """The issue's "done when", as a new user goes: invited by `touchline orgs create` on the
    running `touchline dev` (what `make dev` runs), signs in on the page, adds their first site
    with the form, sends hits and a payment, runs `touchline aggregate run`, and sees them with
    the numbers the query API answers."""
    data, domain = site.stack.data_dir, "newcomer.test"
    created = cli("orgs", "create", "Newcomer", "--owner", "new@newcomer.test", data_dir=data)
    assert created.returncode == 0, created.stderr
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = PageErrors(page)
    page.goto(f"{site.base}/")
    page.get_by_label("Email").fill("new@newcomer.test")
    page.get_by_label("Password").fill(temporary_password(created.stderr))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat it").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.get_by_role("heading", name="No sites yet").wait_for()
    form = page.get_by_test_id("add-site")
    form.get_by_label("Domain").fill("not a domain")
    form.get_by_role("button", name="Add site").click()
    form.get_by_role("alert").wait_for()  # the API's own words
    form.get_by_label("Domain").fill(domain)
    form.get_by_label("Time zone").fill("UTC")
    form.get_by_role("button", name="Add site").click()
    _ready(page, "overview")
    assert page.url.startswith(f"{site.base}/{domain}")
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == 0
    token = page.evaluate("JSON.parse(sessionStorage.getItem('tl.tokens')).id")
    person = {"authorization": f"Bearer {token}"}
    status, sites = http("GET", f"{site.base}/api/v1/sites", headers=person)
    assert status == 200 and [s["domain"] for s in sites] == [domain]
    site_id = sites[0]["site_id"]

    browser_headers = {"content-type": "text/plain", "user-agent": DESKTOP}
    for i, referrer in enumerate(["https://www.google.com/", "", "https://news.ycombinator.com/"]):
        for path in ["/", "/pricing"][: 1 + i % 2]:  # 1, 2 and 1 pages
            hit = {"name": "pageview", "domain": domain, "url": f"https://{domain}{path}"}
            body = hit | ({"referrer": referrer} if referrer else {}) | {"visitor_id": f"newcomer-{i:08d}"}
            assert http("POST", f"{site.base}/api/event", body, browser_headers)[0] == 202
    payments = {"authorization": f"Bearer {ok(cli('tokens', 'create', domain, data_dir=data))}"}
    payment = {
        "amount": "30.00",
        "currency": "EUR",
        "transaction_id": "first",
        "visitor_id": "newcomer-00000000",
    }
    assert http("POST", f"{site.base}/api/v1/payments", payment, payments)[0] == 200
    site.wait_for(
        f"SELECT (SELECT count() FROM events FINAL WHERE site_id = '{site_id}') AS hits, "
        f"(SELECT count() FROM orders FINAL WHERE site_id = '{site_id}') AS orders",
        lambda rows: rows[0]["hits"] == 4 and rows[0]["orders"] == 1,
    )
    ok(cli("aggregate", "run", "--site", domain, data_dir=data, timeout=300))

    page.reload()
    renders = _ready(page, "overview")  # a new document: its renders count from 1

    def ask(metrics: list[str], **more: Any) -> list[dict[str, Any]]:
        body = {"site_id": site_id, "metrics": metrics, "date_range": _days(30), **more}
        status, answer = http("POST", f"{site.base}/api/v1/query", body, person)
        assert status == 200, answer
        results: list[dict[str, Any]] = answer["results"]
        return results

    visitors, pageviews, bounce = ask(["visitors", "pageviews", "bounce_rate"])[0]["metrics"]
    assert (visitors, pageviews) == (3, 4)
    assert _number(page.get_by_test_id("stat-visitors").inner_text()) == visitors
    assert _number(page.get_by_test_id("stat-pageviews").inner_text()) == pageviews
    assert page.get_by_test_id("stat-bounce_rate").inner_text() == f"{bounce:g}%"
    (revenue,) = ask(["net_revenue"])[0]["metrics"]
    assert page.get_by_test_id("stat-net_revenue").inner_text() == revenue["long"]
    assert (revenue["value"], revenue["currency"]) == (30, "EUR")
    sources = ask(["visitors"], dimensions=["visit:source"])
    page.get_by_role("tab", name="Sources").click()
    _ready(page, "overview", renders)  # the tab's own query answered and drawn
    shown = {k: _number(v[0]) for k, v in _list(page, "visit:source").items()}
    assert shown == {r["dimensions"][0]: r["metrics"][0] for r in sources} and len(shown) == 3
    assert errors.errors == []
    context.close()


def test_the_funnels_page_draws_the_cli_funnel_as_the_api_computes_it(site: Site, browser: Any) -> None:
    data = site.stack.data_dir
    name = f"Home to signup {time.time_ns()}"
    steps = ["--step", "/", "--step", "/pricing", "--step", "Signup"]
    ok(cli("funnels", "add", site.stack.site_id, name, *steps, data_dir=data))
    first, last = _days(7)  # the page's 7d: the last seven days, today included
    shown = json.loads(
        ok(
            cli(
                "funnels",
                "show",
                site.stack.site_id,
                name,
                "--from",
                first,
                "--to",
                last,
                "--format",
                "json",
                data_dir=data,
            )
        )
    )
    visitors = [s["visitors"] for s in shown["steps"]]
    assert visitors[0] > visitors[2] > 0, visitors  # people enter, some drop off, some convert
    page = _page(browser, site, role="viewer")
    errors = PageErrors(page)
    page.goto(f"{site.base}/{DOMAIN}/funnels?period=7d")
    _ready(page, "funnels")
    page.get_by_role("combobox", name="Funnel").select_option(label=name)
    page.locator(f'[data-testid="funnel-steps"] li[data-step="1"][data-visitors="{visitors[0]}"]').wait_for()
    bars = page.get_by_test_id("funnel-steps").first.locator("li")
    assert [int(bars.nth(i).get_attribute("data-visitors")) for i in range(bars.count())] == visitors
    drops = page.get_by_test_id("funnel-dropoff").all_inner_texts()
    found = [re.search(r"(\d+) dropped", d) for d in drops]
    assert [int(m.group(1)) for m in found if m] == [s["dropoff"] for s in shown["steps"][1:]]
    assert page.get_by_role("button", name="Define funnel").count() == 0  # a viewer cannot
    assert axe_violations(page) == []
    assert errors.errors == []
    page.context.close()
