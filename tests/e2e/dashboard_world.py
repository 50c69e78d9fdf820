"""The dashboard's browser tests' world: one `touchline dev` stack with known data, shared by
`test_dashboard.py` and `test_dashboard_views.py` (tests/e2e/conftest.py starts it once and
stops it when no later test needs it), and the signed-in pages they open.

The data, sent as the world sends it: hits over HTTP, a goal, orders through the payments API and
Shopify's webhook, the aggregation run by the stack's own AggregatesFunction; an organisation
(Shop) owning the site and a second one, an owner, editor and viewer invited through moto's
Cognito, and another organisation (Elsewhere) with a site none of them may see. Everything after
the two organisations is made through the management API as their owners, as a person does;
only what has no route (the organisations and their owners, the payments API token) goes
through the CLI, whose every call is a Python start (seconds on a loaded machine).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard_tools import signed_in_script
from people_tools import cognito_sign_in, temporary_password
from revenue_payloads import SHOPIFY_SECRET, shopify_headers
from tag_tools import Stack, cli, running_stack

from fakes.shopify import order as shopify_order

DOMAIN = "shop.test"
DESKTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
MOBILE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
SHOPIFY_ORDERS = 4
# (visitor, landing url, referrer, user agent, extra pages, goal?)
VISITS = [
    *[(f"visitor-g-{i:08d}", "/", "https://www.google.com/", DESKTOP, ["/pricing"], i < 3) for i in range(6)],
    *[
        (
            f"visitor-n-{i:08d}",
            "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
            "",
            MOBILE,
            [],
            i < 2,
        )
        for i in range(4)
    ],
    *[
        (f"visitor-t-{i:08d}", "/blog/launch", "https://t.co/abc", MOBILE, ["/pricing", "/signup"], False)
        for i in range(3)
    ],
    *[(f"visitor-d-{i:08d}", "/pricing", "", DESKTOP, [], False) for i in range(2)],
]
# (amount, currency, visitor) through the payments API, after the browsing.
PAYMENTS = [
    ("49.00", "EUR", "visitor-g-00000000"),
    ("20.00", "EUR", "visitor-n-00000000"),
    ("15.00", "USD", ""),
]


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> tuple[int, Any]:
    """One request; the status and the JSON answer (None when empty), errors included."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return int(response.status), json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return int(error.code), json.loads(text) if text else None
        except ValueError:
            return int(error.code), text.decode(errors="replace")


def ok(done: Any) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return str(done.stdout.strip())


class Site:
    """The seeded site: its stack, a stats key, the organisation's people and their tokens."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.base = f"http://127.0.0.1:{stack.port}"
        self.key = ""
        self.org_id = ""
        self.other_site = ""  # a second site of the organisation: the switcher's other choice
        self.people: dict[str, tuple[str, dict[str, Any]]] = {}  # role -> (email, Cognito tokens)
        self.newcomer = ("", "")  # invited, never signed in: (email, temporary password)

    def query(self, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """`POST /api/v2/query` with the site's stats key (or `key`); a refusal fails the test."""
        status, answer = http(
            "POST",
            f"{self.base}/api/v2/query",
            {"site_id": DOMAIN, **body},
            {"authorization": f"Bearer {key or self.key}"},
        )
        assert status == 200, (status, answer)
        result: dict[str, Any] = answer
        return result

    def api(self, method: str, path: str, role: str = "owner", body: Any = None) -> tuple[int, Any]:
        """The management API as one of the organisation's people."""
        headers = {"authorization": f"Bearer {self.people[role][1]['IdToken']}"} if role else {}
        return http(method, self.base + path, body, headers)

    def created(self, path: str, body: Any, role: str = "owner") -> Any:
        status, answer = self.api("POST", path, role, body)
        assert status in (200, 201), (path, status, answer)
        return answer

    def sql_rows(self, query: str) -> list[dict[str, Any]]:
        """Rows from the stack's `/_dev/sql` (what `touchline sql` sends, without starting Python)."""
        status, answer = http("POST", f"{self.base}/_dev/sql", {"query": query})
        assert status == 200, answer
        return [dict(zip(answer["columns"], row, strict=True)) for row in answer["rows"]]

    def wait_for(
        self, query: str, ready: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
    ) -> None:
        deadline = time.monotonic() + timeout
        while not ready(rows := self.sql_rows(query)):
            assert time.monotonic() < deadline, f"timed out waiting on {query!r}; last rows: {rows}"
            time.sleep(0.2)

    def aggregate(self) -> dict[str, Any]:
        """The aggregation (sessions, attribution, the commerce jobs on their first run), as
        `touchline aggregate run --site` has the running stack invoke it."""
        event = {"site": self.stack.site_id, "full": False, "refit": False}
        status, answer = http(
            "POST", f"{self.base}/_dev/invoke", {"function": "AggregatesFunction", "event": event}
        )
        assert status == 200, answer
        result: dict[str, Any] = answer["result"]
        return result


def _organisations(site: Site) -> None:
    """Shop (this site and one more) with an owner, an editor and a viewer, and an admin invited
    but never signed in; Elsewhere owns a site none of them may see."""
    data = site.stack.data_dir
    created = cli("orgs", "create", "Shop", "--owner", "owner@shop.test", data_dir=data)
    site.org_id = ok(created)
    site.people["owner"] = (
        "owner@shop.test",
        cognito_sign_in(site.base, "owner@shop.test", temporary_password(created.stderr)),
    )
    elsewhere = cli("orgs", "create", "Elsewhere", "--owner", "zed@elsewhere.test", data_dir=data)
    zed = cognito_sign_in(site.base, "zed@elsewhere.test", temporary_password(elsewhere.stderr))
    site.people["zed"] = ("zed@elsewhere.test", zed)
    site.created("/api/v1/sites", {"org_id": ok(elsewhere), "domain": "elsewhere.test"}, role="zed")
    site.stack.site_id = site.created("/api/v1/sites", {"org_id": site.org_id, "domain": DOMAIN})["site_id"]
    other = site.created("/api/v1/sites", {"org_id": site.org_id, "domain": "blog.shop.test"})
    site.other_site = other["site_id"]
    for role in ("editor", "viewer", "admin"):
        email = f"{role}@shop.test"
        invited = site.created(f"/api/v1/orgs/{site.org_id}/members", {"email": email, "role": role})
        if role == "admin":  # signs in through the page itself
            site.newcomer = (email, invited["temporary_password"])
        else:
            site.people[role] = (email, cognito_sign_in(site.base, email, invited["temporary_password"]))


def _browsing(site: Site) -> None:
    for visitor, landing, referrer, agent, pages, goal in VISITS:
        headers = {"content-type": "text/plain", "user-agent": agent}
        hits = [{"name": "pageview", "url": f"https://{DOMAIN}{landing}", "referrer": referrer}]
        hits += [{"name": "pageview", "url": f"https://{DOMAIN}{path}"} for path in pages]
        hits += [{"name": "Signup", "url": f"https://{DOMAIN}/signup"}] if goal else []
        for hit in hits:
            body = {**{k: v for k, v in hit.items() if v}, "domain": DOMAIN, "visitor_id": visitor}
            status, answer = http("POST", f"{site.base}/api/event", body, headers)
            assert status == 202, answer
    expected = sum(1 + len(v[4]) + v[5] for v in VISITS)
    site.wait_for("SELECT count() AS n FROM events FINAL", lambda rows: rows[0]["n"] >= expected)


def _orders(site: Site) -> None:
    """Payments after the browsing (to the second), then Shopify orders with line items for the
    Customers and Products pages: two customers, products 700 and 701 in every order (bought
    together), 702 in two of them."""
    token = ok(cli("tokens", "create", site.stack.site_id, data_dir=site.stack.data_dir))
    time.sleep(1.1)
    for i, (amount, currency, visitor) in enumerate(PAYMENTS):
        body = {"amount": amount, "currency": currency, "transaction_id": f"tx_{i}", "visitor_id": visitor}
        status, answer = http(
            "POST", f"{site.base}/api/v1/payments", body, {"authorization": f"Bearer {token}"}
        )
        assert status == 200, answer
    integrations = f"/api/v1/sites/{site.stack.site_id}/integrations"
    site.created(integrations, {"provider": "shopify", "secret": SHOPIFY_SECRET})
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(SHOPIFY_ORDERS):
        record = shopify_order(
            4_000_000 + i,
            now - timedelta(days=5 - i, hours=1),
            lines=3 if i < 2 else 2,
            customer_id=100 + i % 2,
            email=f"buyer{i % 2}@shop.test",
        )
        order = json.dumps(record).encode()
        status, answer = http(
            "POST",
            f"{site.base}/webhooks/shopify/{site.stack.site_id}",
            headers=shopify_headers(order, "orders/paid"),
            raw=order,
        )
        assert status == 200, answer
    site.wait_for(
        "SELECT count() AS n FROM orders FINAL", lambda rows: rows[0]["n"] == len(PAYMENTS) + SHOPIFY_ORDERS
    )


@contextmanager
def seeded_site(tmp: Path) -> Iterator[Site]:
    with running_stack(tmp, None) as stack:
        site = Site(stack)
        _organisations(site)
        site.created(f"/api/v1/sites/{stack.site_id}/goals", {"name": "Signup"})
        site.key = site.created(
            f"/api/v1/orgs/{site.org_id}/api-keys", {"name": "dashboard test", "site_ids": [stack.site_id]}
        )["key"]
        _browsing(site)
        _orders(site)
        site.aggregate()
        time.sleep(1.1)  # memberships and sites are cached for 1 s by the local stack
        yield site


# ---------------------------------------------------------------------- pages


def signed_in_page(
    browser: Any, site: Site, *, width: int = 1280, scheme: str = "light", role: str = "owner"
) -> Any:
    """A page signed in as the organisation's `role` (real Cognito tokens)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    email, tokens = site.people[role]
    context.add_init_script(signed_in_script(tokens, email))
    return context.new_page()


def wait_ready(page: Any, view: str, after: int = 0, timeout_s: float = 60) -> int:
    """Wait until `view` says every answer of a newer round than `after` is on screen."""
    page.wait_for_function(
        "([view, after]) => { const r = document.documentElement.dataset.ready || '';"
        " return r.startsWith(view + ':') && Number(r.split(':')[1]) > after; }",
        arg=[view, after],
        timeout=timeout_s * 1000,
    )
    return int(page.evaluate("document.documentElement.dataset.ready.split(':')[1]"))
