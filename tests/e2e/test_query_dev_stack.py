"""The query API through `touchline dev`: Plausible's docs examples over HTTP, the curl example,
the OpenAPI document, and the CLI (`touchline query`, `touchline report`) agreeing with the API.

The known site of tests/query_world.py is loaded into the running stack's ClickHouse (through
`/_dev/sql`), aggregated with `touchline aggregate run`, and queried with a key from
`touchline api-keys create`; the docs examples are sent unchanged (their source:
tests/fixtures/plausible_stats_api_v2/README.md) and must return the numbers counted in Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_revenue_dev_stack import Dev, cli, ok

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "query"))
from query_world import DOMAIN, GOALS, World
from test_plausible_examples import EXAMPLES, RUNNABLE, comparable, example, expected

pytestmark = pytest.mark.e2e
MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")


def query(dev: Dev, body: Any, key: str) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return dev.post(
        "/api/v2/query", raw, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    )


def insert(dev: Dev, rows: list[str], table: str = "events") -> None:
    for start in range(0, len(rows), 500):
        body = f"INSERT INTO {table} FORMAT JSONEachRow\n" + "\n".join(rows[start : start + 500])
        request = urllib.request.Request(
            dev.base + "/_dev/sql",
            data=json.dumps({"query": body}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200


def test_query_api_through_the_local_stack(tmp_path: Path) -> None:
    data = tmp_path / "data"
    today = datetime.now(UTC).date()
    world = World.build(today)
    # The stack first: the CLI then works through it (its moto and `/_dev/sql`) instead of
    # starting a local moto and migrating the warehouse for the audit log in every call.
    dev = Dev(data, tmp_path / "dev")
    try:
        site = ok(cli("sites", "add", DOMAIN, data_dir=data))
        for goal in GOALS:
            ok(cli("goals", "add", site, goal, data_dir=data))
        insert(dev, world.rows(site))
        insert(dev, world.order_rows(site), table="orders")
        dev.wait_for("SELECT count() FROM events", len(world.hits))
        ok(cli("aggregate", "run", "--site", site, data_dir=data))
        key = ok(cli("api-keys", "create", DOMAIN, "--scope", "stats:read", data_dir=data))

        for name in RUNNABLE:
            # The file's bytes, unchanged.
            status, answer = query(dev, (EXAMPLES / f"{name}-query.json").read_bytes(), key)
            assert status == 200, (name, answer)
            assert comparable(answer["results"]) == expected(name, world, today), name
        assert sum(r["metrics"][0] for r in query(dev, example("utm"), key)[1]["results"]) > 50

        # The README's curl example, as a shell runs it.
        curl = subprocess.run(
            [
                "curl",
                "-s",
                f"{dev.base}/api/v2/query",
                "-H",
                f"Authorization: Bearer {key}",
                "-H",
                "Content-Type: application/json",
                "-d",
                json.dumps(
                    {
                        "site_id": DOMAIN,
                        "metrics": ["visitors", "visits", "bounce_rate"],
                        "date_range": "7d",
                        "dimensions": ["visit:channel"],
                    }
                ),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert json.loads(curl.stdout)["results"], curl.stdout

        # No key, a bad key: Plausible's 401s.
        assert dev.post("/api/v2/query", json.dumps(example("aggregate")).encode(), {})[0] == 401
        # The last character changed (a key that already ends in "A" must not stay itself).
        wrong = key[:-1] + ("B" if key.endswith("A") else "A")
        assert query(dev, example("aggregate"), wrong)[0] == 401

        # The CLI runs the same engine, through the running stack.
        body = {**example("utm"), "date_range": "30d"}
        printed = json.loads(ok(cli("query", json.dumps(body), data_dir=data)))
        assert printed["results"] == query(dev, body, key)[1]["results"]

        # The six-model revenue query equals `touchline report attribution`.
        six = {
            "site_id": DOMAIN,
            "date_range": "all",
            "dimensions": ["visit:channel", "revenue:currency"],
            "metrics": [f"attributed_revenue:{m}" for m in MODELS],
        }
        status, api = query(dev, six, key)
        assert status == 200
        report = json.loads(
            ok(
                cli(
                    "report",
                    "attribution",
                    "--site",
                    site,
                    "--model",
                    "all",
                    "--format",
                    "json",
                    data_dir=data,
                )
            )
        )
        from_report = {
            (m["model"], row["channel"], amount["currency"]): amount["amount"]
            for m in report["models"]
            for row in m["rows"]
            for amount in row["revenue"]
        }
        from_api = {
            (model, r["dimensions"][0], r["dimensions"][1]): r["metrics"][i]["amount"]
            for r in api["results"]
            for i, model in enumerate(MODELS)
            if r["metrics"][i] is not None
        }
        assert from_api == from_report and from_api

        # The OpenAPI document and Swagger UI are served.
        with urllib.request.urlopen(dev.base + "/api/docs/openapi.json", timeout=30) as response:
            document = json.loads(response.read())
        assert document["openapi"].startswith("3.1") and "/api/v2/query" in document["paths"]
        with urllib.request.urlopen(dev.base + "/api/docs", timeout=30) as response:
            assert b"swagger" in response.read().lower()
    finally:
        dev.stop()
