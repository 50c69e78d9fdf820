"""The dashboard as a browser gets it from `touchline dev`: served by DashboardFunction with the
caching its file names allow, within its size budget, and usable in real (Debian) Chromium: no
script errors, no serious accessibility violations (axe-core), light and dark, at 1280 and 390 px
(screenshots under test-artifacts/dashboard/)."""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest
from dashboard_tools import DASHBOARD, WIDTHS, PageErrors, axe_violations, screenshot
from tag_tools import TOUCHLINE, Stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TOUCHLINE.exists(), reason="no touchline script next to python"),
    pytest.mark.timeout(900),
]

pytest.importorskip("playwright.sync_api")

# Initial JavaScript and CSS, gzipped as served (issue 16's budget).
BUDGET_BYTES = 150 * 1024


@pytest.fixture
def stack(dashboard_site: Any) -> Stack:
    """The dashboard tests' shared stack (tests/e2e/conftest.py): the same app and headers."""
    running: Stack = dashboard_site.stack
    return running


@pytest.fixture
def browser(dashboard_browser: Any) -> Any:
    return dashboard_browser


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), {k.lower(): v for k, v in error.headers.items()}, error.read()


def _initial_assets(index: str) -> list[str]:
    """What the browser loads before the app can render: entry script, preloads, styles."""
    scripts = re.findall(r'<script[^>]+type="module"[^>]+src="([^"]+)"', index)
    links = re.findall(r'<link[^>]+rel="(?:stylesheet|modulepreload)"[^>]+href="([^"]+)"', index)
    return scripts + links


def test_the_app_typechecks() -> None:
    """`npm run typecheck` (TypeScript, strict) over dashboard/src and its build config."""
    npm = shutil.which("npm")
    assert npm, "npm is needed to build the dashboard"
    done = subprocess.run(
        [npm, "run", "--silent", "typecheck"],
        cwd=DASHBOARD,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_index_revalidates_and_hashed_assets_are_immutable(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.port}"
    status, headers, body = _get(base + "/shop.test/attribution?period=7d")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-cache" and headers["etag"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert _get(base + "/", {"if-none-match": headers["etag"]})[0] == 304
    assets = _initial_assets(body.decode())
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert re.fullmatch(r"/assets/[\w.-]+-[\w-]{8}\.(js|css)", asset), asset  # content-hashed names
        status, headers, _ = _get(base + asset, {"accept-encoding": "gzip"})
        assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["content-encoding"] == "gzip"
    # API paths never fall through to the app page.
    status, headers, body = _get(base + "/api/v2/unknown")
    assert status == 404 and headers["content-type"] == "application/json"
    # A shared link may be framed by another site.
    assert "frame-ancestors *" in _get(base + "/share/abcdefghijkl")[1]["content-security-policy"]


def test_initial_javascript_and_css_within_150_kb_gzipped(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.port}"
    index = _get(base + "/")[2].decode()
    sizes = {a: len(_get(base + a, {"accept-encoding": "gzip"})[2]) for a in _initial_assets(index)}
    total = sum(sizes.values())
    print(f"\ndashboard initial JS+CSS: {total / 1024:.1f} KB gzipped of {BUDGET_BYTES // 1024} KB: {sizes}")
    assert total <= BUDGET_BYTES


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_sign_in_page_renders_accessibly_in_both_colour_schemes(
    stack: Stack, browser: Any, scheme: str
) -> None:
    backgrounds = set()
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 860}, color_scheme=scheme)
        page = context.new_page()
        errors = PageErrors(page)
        page.goto(f"http://127.0.0.1:{stack.port}/")
        page.locator("main h1").wait_for()
        backgrounds.add(page.evaluate("getComputedStyle(document.documentElement).backgroundColor"))
        screenshot(page, f"signin-{width}-{scheme}")
        assert axe_violations(page) == []
        assert errors.errors == []
        context.close()
    (background,) = backgrounds
    assert (background == "rgb(15, 17, 23)") == (scheme == "dark"), background
