"""What the dashboard's browser tests share: Debian's chromium through Playwright, axe-core from
the dashboard's own npm packages, and screenshots written under `test-artifacts/dashboard/`
(not committed; `TOUCHLINE_SCREENSHOTS` moves them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tag_tools import ROOT

DASHBOARD = ROOT / "dashboard"
AXE = DASHBOARD / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("TOUCHLINE_SCREENSHOTS", ROOT / "test-artifacts" / "dashboard"))
WIDTHS = (1280, 390)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def launched(playwright_api: Any, chromium: Path) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageErrors:
    """Uncaught exceptions and console errors of a page (a failed request is not one)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA rules on the page as it is now; the violations of those impacts."""
    page.evaluate(AXE.read_text())  # evaluate is not subject to the page's CSP; a script tag is
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---------------------------------------------------------------------- signed-in pages


def signed_in_script(tokens: dict[str, Any], email: str) -> str:
    """An init script that puts a Cognito session where the dashboard keeps it (lib/session.ts):
    the page then starts signed in, with real tokens the stack's JWT authorizer checks."""
    import json
    import time

    kept = {
        "id": tokens["IdToken"],
        "access": tokens["AccessToken"],
        "expiresAt": int((time.time() + int(tokens["ExpiresIn"])) * 1000),
        "email": email,
    }
    return (
        f"sessionStorage.setItem('tl.tokens', {json.dumps(json.dumps(kept))});"
        f"localStorage.setItem('tl.email', {json.dumps(email)});"
        + (
            f"localStorage.setItem('tl.refresh', {json.dumps(tokens['RefreshToken'])});"
            if tokens.get("RefreshToken")
            else ""
        )
    )
