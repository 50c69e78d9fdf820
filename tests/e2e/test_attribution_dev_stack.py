"""Attribution through `touchline dev`: tag hits and a payment over HTTP, the aggregation invoked
through the running stack, and the reports read with the CLI.

One visitor arrives from a paid search ad, comes back from the newsletter, signs up (a goal
marked as a conversion) and pays $90.00 through the payments API. Every model's credits and
the reports must say exactly that, and a second aggregation run must change nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_revenue_dev_stack import USER_AGENT, Dev, cli, ok

DOMAIN = "shop.example.com"
VISITOR = "vAttributionE2eVisitor1"

pytestmark = pytest.mark.e2e


def hit(dev: Dev, name: str, url: str, referrer: str = "") -> None:
    body = {"n": name, "u": url, "d": DOMAIN, "r": referrer or None, "vid": VISITOR}
    status, _ = dev.post(
        "/api/event", json.dumps(body).encode(), {"Content-Type": "text/plain", "User-Agent": USER_AGENT}
    )
    assert status == 202


def report(data: Path, *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(ok(cli("report", *args, "--format", "json", data_dir=data)))
    return result


def test_attribution_through_the_local_stack(tmp_path: Path) -> None:
    data = tmp_path / "data"
    site = ok(cli("sites", "add", DOMAIN, data_dir=data))
    token = ok(cli("tokens", "create", site, data_dir=data)).split()[-1]
    ok(cli("goals", "add", site, "Signup", "--value", "5", "--currency", "USD", data_dir=data))
    dev = Dev(data, tmp_path / "dev")
    try:
        hit(dev, "pageview", "https://shop.example.com/?utm_source=google&utm_medium=cpc&gclid=abc")
        hit(dev, "pageview", "https://shop.example.com/pricing")
        hit(
            dev,
            "pageview",
            "https://shop.example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
        )
        hit(dev, "Signup", "https://shop.example.com/welcome")
        payment = {"amount": "90.00", "currency": "USD", "transaction_id": "tx_attr_1", "visitor_id": VISITOR}
        status, _ = dev.post(
            "/api/v1/payments",
            json.dumps(payment).encode(),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert status == 200
        dev.wait_for("SELECT count() FROM events FINAL", 4)
        dev.wait_for("SELECT count() FROM orders FINAL", 1)

        ok(cli("aggregate", "run", "--site", site, data_dir=data))
        linear = report(data, "attribution", "--site", site, "--model", "linear")
        [model] = linear["models"]
        by_channel = {row["channel"]: row for row in model["rows"]}
        assert set(by_channel) == {"Paid Search", "Email"}
        assert by_channel["Paid Search"]["revenue"] == [{"currency": "USD", "amount": "45.00"}]
        assert by_channel["Email"]["revenue"] == [{"currency": "USD", "amount": "45.00"}]
        assert model["total"]["orders"] == pytest.approx(1.0)
        assert model["total"]["conversions"] == pytest.approx(2.0)  # the order and the Signup goal
        assert model["total"]["goal_value"] == [{"currency": "USD", "amount": "5.00"}]

        first = report(data, "attribution", "--site", site, "--model", "first_touch", "--by", "source")
        assert [(r["source"], r["revenue"]) for r in first["models"][0]["rows"]] == [
            ("Google", [{"currency": "USD", "amount": "90.00"}])
        ]
        overview = report(data, "overview", "--site", site)
        totals = overview["totals"]
        assert (totals["visitors"], totals["sessions"], totals["pageviews"]) == (1, 2, 3)
        assert totals["conversions"] == 2 and totals["conversion_rate"] == 1.0
        assert totals["revenue"] == [{"currency": "USD", "amount": "90.00"}]
        assert Decimal(report(data, "revenue", "--site", site)["currencies"][0]["net"]) == Decimal("90.00")

        # Idempotent: running again (incrementally, nothing new) changes no number.
        ok(cli("aggregate", "run", "--site", site, data_dir=data))
        assert report(data, "attribution", "--site", site, "--model", "linear") == linear

        # The data-driven models refuse one journey, and say so; with the minimum lowered and a
        # refit, both channels of the only converting journey are indispensable (RE = 1 each).
        [markov] = report(data, "attribution", "--site", site, "--model", "markov")["models"]
        assert markov["status"] == "too_few_journeys" and markov["rows"] == []
        assert "1 journey with 1 conversion" in markov["note"]
        ok(cli("sites", "set", site, "--min-journeys", "1", "--min-conversions", "1", data_dir=data))
        ok(cli("aggregate", "run", "--site", site, "--refit", data_dir=data))
        [markov] = report(data, "attribution", "--site", site, "--model", "markov")["models"]
        assert markov["status"] == "ok"
        assert {r["channel"]: r["revenue"] for r in markov["rows"]} == {
            "Paid Search": [{"currency": "USD", "amount": "45.00"}],
            "Email": [{"currency": "USD", "amount": "45.00"}],
        }
        paid = report(data, "attribution", "--site", site, "--model", "linear", "--touches", "paid_only")
        assert [(r["channel"], r["revenue"]) for r in paid["models"][0]["rows"]] == [
            ("Paid Search", [{"currency": "USD", "amount": "90.00"}])
        ]
    finally:
        dev.stop()
