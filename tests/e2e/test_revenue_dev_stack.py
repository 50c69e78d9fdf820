"""Revenue through `touchline dev`: signed Stripe and Shopify webhooks and the payments API over
HTTP, rows checked in ClickHouse and in `touchline report revenue`.

What must hold: amounts to the cent in USD, JPY and KWD; a partial refund nets out; one payment
announced by three event types is one order; a webhook redelivered five times is one order; a
forged signature stores nothing; the order is linked to the visitor whose pageviews preceded it;
integrations added with and without a running stack survive a restart; Lemon Squeezy, Polar and
Paddle, added through the CLI, take their documented payloads.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from provider_samples import (
    LEMONSQUEEZY_SECRET,
    PADDLE_SECRET,
    POLAR_SECRET,
    lemonsqueezy,
    lemonsqueezy_headers,
    paddle,
    paddle_headers,
    polar,
    polar_headers,
)
from revenue_payloads import (
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    charge,
    checkout_session,
    payment_intent,
    refund,
    shopify_headers,
    shopify_order,
    stripe_body,
    stripe_event,
    stripe_signature,
)

ROOT = Path(__file__).resolve().parents[2]
TOUCHLINE = Path(sys.executable).parent / "touchline"
DOMAIN = "shop.example.com"
VISITOR = "vRevenueE2eBrowser01"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not TOUCHLINE.exists(), reason="no touchline script next to python"),
]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TOUCHLINE_", "AWS_"))}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOUCHLINE), *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        input=stdin,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Dev:
    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.data_dir, self.port = data_dir, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out, self.err = logs.with_suffix(".out"), logs.with_suffix(".err")
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [str(TOUCHLINE), "dev", "--port", str(self.port), "--data-dir", str(data_dir)],
                cwd=ROOT,
                env=_env(),
                stdout=out,
                stderr=err,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"touchline dev exited\n{self.logs()}"
            try:
                with urllib.request.urlopen(self.base + "/_dev/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"touchline dev not ready\n{self.logs()}")

    def logs(self) -> str:
        return f"--- stdout\n{self.out.read_text()[-4000:]}\n--- stderr\n{self.err.read_text()[-4000:]}"

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(self.base + path, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return int(exc.code), json.loads(exc.read() or b"{}")

    def stripe(
        self, site: str, event: dict[str, Any], signature: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        body = stripe_body(event)
        header = signature or stripe_signature(body)
        return self.post(
            f"/webhooks/stripe/{site}", body, {"Content-Type": "application/json", "Stripe-Signature": header}
        )

    def shopify(
        self, site: str, topic: str, payload: dict[str, Any], webhook_id: str
    ) -> tuple[int, dict[str, Any]]:
        body = json.dumps(payload).encode()
        return self.post(
            f"/webhooks/shopify/{site}", body, shopify_headers(body, topic, webhook_id=webhook_id)
        )

    def sql(self, query: str) -> list[list[Any]]:
        request = urllib.request.Request(
            self.base + "/_dev/sql",
            data=json.dumps({"query": query}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            rows: list[list[Any]] = json.loads(response.read())["rows"]
            return rows

    def wait_for(self, query: str, expected: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        seen: Any = None
        while time.monotonic() < deadline:
            seen = self.sql(query)[0][0]
            if seen == expected:
                return
            time.sleep(0.1)
        raise AssertionError(f"{query}: {seen!r}, expected {expected!r}\n{self.logs()}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(120) == 0, self.logs()


@pytest.fixture
def stacks() -> Iterator[list[Dev]]:
    started: list[Dev] = []
    yield started
    for dev in started:
        if dev.proc.poll() is None:
            dev.proc.kill()
            dev.proc.wait()


def test_revenue_through_the_local_stack(tmp_path: Path, stacks: list[Dev]) -> None:
    data = tmp_path / "data"
    site = ok(cli("sites", "add", DOMAIN, data_dir=data))
    # Added while no stack runs: saved in the data dir and loaded by the stack.
    stripe_url = ok(
        cli("integrations", "add", "stripe", site, "--secret", "-", data_dir=data, stdin=STRIPE_SECRET)
    )
    assert stripe_url.endswith(f"/webhooks/stripe/{site}")

    dev = Dev(data, tmp_path / "first")
    stacks.append(dev)
    assert ok(cli("integrations", "add", "shopify", site, "--secret", SHOPIFY_SECRET, data_dir=data)) == (
        f"{dev.base}/webhooks/shopify/{site}"
    )
    token = ok(cli("tokens", "create", site, data_dir=data))

    # The visitor browses first…
    for path in ("/", "/pricing", "/checkout"):
        hit = {"name": "pageview", "url": f"https://{DOMAIN}{path}", "domain": DOMAIN, "visitor_id": VISITOR}
        status, _ = dev.post(
            "/api/event", json.dumps(hit).encode(), {"Content-Type": "text/plain", "User-Agent": USER_AGENT}
        )
        assert status == 202, dev.logs()
    dev.wait_for(f"SELECT count() FROM events FINAL WHERE visitor_id = '{VISITOR}'", 3)
    time.sleep(1.1)  # the order is placed after the browsing, to the second
    now = int(time.time())

    # …then pays: one payment announced three ways, the session redelivered five times.
    session = checkout_session(amount=4999, visitor=VISITOR, payment_intent="pi_e2e_usd")
    session["created"] = now
    events = [
        stripe_event("checkout.session.completed", session, created=now),
        stripe_event("payment_intent.succeeded", payment_intent(pid="pi_e2e_usd", amount=4999), created=now),
        stripe_event(
            "charge.succeeded",
            charge(cid="ch_e2e_usd", amount=4999, refunded=0, payment_intent="pi_e2e_usd"),
            created=now,
        ),
    ]
    for event in events + [events[0]] * 5:
        status, body = dev.stripe(site, event)
        assert status == 200, (body, dev.logs())
    for pid, amount, currency in [("pi_e2e_jpy", 1500, "jpy"), ("pi_e2e_kwd", 12345, "kwd")]:
        assert (
            dev.stripe(
                site,
                stripe_event(
                    "payment_intent.succeeded", payment_intent(pid=pid, amount=amount, currency=currency)
                ),
            )[0]
            == 200
        )
    partial = refund(
        rid="re_e2e", amount=1000, charge_id="ch_e2e_usd", payment_intent="pi_e2e_usd", created=now
    )
    assert dev.stripe(site, stripe_event("refund.created", partial, created=now))[0] == 200

    # A forged signature: rejected, nothing stored.
    forged = stripe_event("payment_intent.succeeded", payment_intent(pid="pi_forged", amount=999_999))
    status, body = dev.stripe(
        site, forged, signature=stripe_signature(stripe_body(forged), secret="whsec_attacker")
    )
    assert (status, body["error"]["code"]) == (401, "invalid_signature")

    # Shopify: an order (visitor in a cart attribute), delivered five times; the payments API.
    for _ in range(5):
        assert dev.shopify(site, "orders/paid", shopify_order(visitor=VISITOR), "wh-e2e-1")[0] == 200
    payment = json.dumps({"amount": "12.50", "currency": "EUR", "transaction_id": "tx_e2e"}).encode()
    status, _ = dev.post(
        "/api/v1/payments", payment, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert status == 200

    dev.wait_for("SELECT count() FROM orders FINAL", 5)
    dev.wait_for("SELECT count() FROM refunds FINAL WHERE is_deleted = 0 AND source = 'stripe'", 1)
    rows = dev.sql(
        "SELECT currency, toString(amount), visitor_id, source FROM orders FINAL ORDER BY currency, source"
    )
    assert [(c, Decimal(a), v, s) for c, a, v, s in rows] == [
        ("EUR", Decimal("12.50"), "", "api"),
        ("JPY", Decimal(1500), "", "stripe"),
        ("KWD", Decimal("12.345"), "", "stripe"),
        ("USD", Decimal("199.65"), VISITOR, "shopify"),
        ("USD", Decimal("49.99"), VISITOR, "stripe"),
    ]
    assert dev.sql("SELECT count() FROM orders FINAL WHERE order_id = 'pi_forged'")[0][0] == 0
    # The visitor's browsing preceded the Stripe order.
    [[browsed, ordered]] = dev.sql(
        f"SELECT (SELECT max(timestamp) FROM events WHERE visitor_id = '{VISITOR}'), "
        "(SELECT ordered_at FROM orders FINAL WHERE order_id = 'pi_e2e_usd')"
    )
    assert browsed < ordered

    report = json.loads(ok(cli("report", "revenue", "--site", site, "--format", "json", data_dir=data)))
    by_currency = {c["currency"]: c for c in report["currencies"]}
    usd = by_currency["USD"]
    assert (usd["orders"], usd["gross"], usd["refunds"], usd["net"]) == (2, "249.64", "10.00", "239.64")
    assert (usd["linked_orders"], usd["linked_share"]) == (2, 1.0)
    assert (by_currency["JPY"]["gross"], by_currency["KWD"]["gross"]) == ("1500", "12.345")
    assert by_currency["EUR"]["unattributed_orders"] == 1
    table = ok(cli("report", "revenue", "--site", site, data_dir=data))
    assert "249.64" in table and "12.345" in table

    # Both integrations survive a restart of the stack; Lemon Squeezy is added while it is down,
    # Polar and Paddle while the new one runs (one stack start less than a test of their own).
    dev.stop()
    lemonsqueezy_url = ok(
        cli("integrations", "add", "lemonsqueezy", site, "--secret", LEMONSQUEEZY_SECRET, data_dir=data)
    )
    assert lemonsqueezy_url.endswith(f"/webhooks/lemonsqueezy/{site}")
    restarted = Dev(data, tmp_path / "second")
    stacks.append(restarted)
    later = stripe_event("payment_intent.succeeded", payment_intent(pid="pi_after_restart", amount=700))
    assert restarted.stripe(site, later)[0] == 200, restarted.logs()
    assert (
        restarted.shopify(site, "orders/paid", shopify_order(order_id=42, visitor=VISITOR), "wh-e2e-2")[0]
        == 200
    )
    restarted.wait_for("SELECT count() FROM orders FINAL", 7)
    processors_gross = deliver_processor_samples(restarted, site, data)
    restarted.wait_for("SELECT count() FROM orders FINAL", 10, timeout=90)  # loaded CI machines
    report = json.loads(ok(cli("report", "revenue", "--site", site, "--format", "json", data_dir=data)))
    usd = {c["currency"]: c for c in report["currencies"]}["USD"]
    before = Decimal("249.64") + Decimal("7.00") + Decimal("199.65")  # + pi_after_restart + order 42
    assert (usd["orders"], Decimal(usd["gross"])) == (7, before + processors_gross)
    restarted.stop()


def deliver_processor_samples(dev: Dev, site: str, data: Path) -> Decimal:
    """`touchline integrations add polar|paddle` on the running stack, then Lemon Squeezy's, Polar's
    and Paddle's documented payloads, each signed its way and delivered twice: their gross."""
    for provider, secret in (("polar", POLAR_SECRET), ("paddle", PADDLE_SECRET)):
        added = cli("integrations", "add", provider, site, "--secret", "-", data_dir=data, stdin=secret)
        assert ok(added) == f"{dev.base}/webhooks/{provider}/{site}"
        assert "order.paid" in added.stderr or "transaction.completed" in added.stderr
    order, paid, transaction = (
        lemonsqueezy("order_created"),
        polar("order.paid"),
        paddle("transaction.completed"),
    )
    deliveries = []
    body = json.dumps(order).encode()
    deliveries.append(("lemonsqueezy", body, lemonsqueezy_headers(body, "order_created")))
    body = json.dumps(paid).encode()
    deliveries.append(("polar", body, polar_headers(body, "msg_e2e_1")))
    body = json.dumps(transaction).encode()
    deliveries.append(("paddle", body, paddle_headers(body)))
    for provider, payload, headers in deliveries * 2:
        status, answer = dev.post(f"/webhooks/{provider}/{site}", payload, headers)
        assert status == 200, (provider, answer, dev.logs())
    return (
        Decimal(order["data"]["attributes"]["total"]) / 100
        + Decimal(paid["data"]["total_amount"]) / 100
        + Decimal(transaction["data"]["details"]["totals"]["grand_total"]) / 100
    )
