"""`touchline api-keys …`, `touchline query`, `touchline sites set --timezone`, as an operator runs them."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from query_world import DOMAIN

from helpers import TABLE
from touchline.auth.api_keys import ApiKeyStore
from touchline.config.sites import SiteStore
from touchline_dev.cli.main import main


@pytest.fixture
def registered(aws: dict[str, str], loaded: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", loaded.url)
    ddb = boto3.client("dynamodb")
    for item in (
        {"pk": {"S": f"DOMAIN#{DOMAIN}"}, "sk": {"S": "SITE"}, "site_id": {"S": loaded.site.site_id}},
        {
            "pk": {"S": f"SITE#{loaded.site.site_id}"},
            "sk": {"S": "SITE"},
            "site_id": {"S": loaded.site.site_id},
            "domain": {"S": DOMAIN},
        },
    ):
        ddb.put_item(TableName=TABLE, Item=item)
    return ddb


def test_api_keys_create_list_revoke(registered: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "api-keys",
                "create",
                DOMAIN,
                "--scope",
                "stats:read",
                "--name",
                "looker",
                "--expires-days",
                "30",
                "--rate-limit",
                "100",
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("tlk_") and "shown once" in out.err
    record = ApiKeyStore(registered, TABLE).verify(key)
    assert record is not None and record.rate_limit == 100 and record.name == "looker"
    assert record.expires_at is not None

    assert main(["api-keys", "list", DOMAIN, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(k["prefix"], k["status"], k["scopes"]) for k in listed] == [
        (record.prefix, "active", ["stats:read"])
    ]
    assert key not in json.dumps(listed)
    stored = registered.scan(TableName=TABLE)["Items"]
    assert key not in json.dumps(stored), "only the hash is stored"

    assert main(["api-keys", "revoke", record.prefix]) == 0
    capsys.readouterr()
    assert ApiKeyStore(registered, TABLE).verify(key) is None
    assert main(["api-keys", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "revoked"


def test_api_keys_refuse_bad_requests(registered: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api-keys", "create", "nowhere.example.com"]) == 2
    assert "no site" in capsys.readouterr().err
    assert main(["api-keys", "create", DOMAIN, "--scope", "sites:write"]) == 2
    assert "scopes must be among stats:read" in capsys.readouterr().err
    assert main(["api-keys", "revoke", "tlk_zzzzzzzz"]) == 2
    assert "no API key" in capsys.readouterr().err


def test_query_runs_the_engine(registered: Any, loaded: Any, capsys: pytest.CaptureFixture[str]) -> None:
    body = {
        "site_id": DOMAIN,
        "metrics": ["visitors", "visits"],
        "date_range": ["2024-08-01", "2024-09-11"],
        "dimensions": ["visit:channel"],
    }
    assert main(["query", json.dumps(body)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["results"] == loaded.run(body)["results"] and printed["results"]
    assert main(["query", json.dumps({**body, "metrics": ["nope"]})]) == 2
    assert "Unknown metric" in capsys.readouterr().err
    assert main(["query", json.dumps({**body, "site_id": "nowhere.example.com"})]) == 2
    assert "no site" in capsys.readouterr().err


def test_sites_set_timezone(aws: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    site = SiteStore(boto3.client("dynamodb"), TABLE).add("berlin.example.com")
    assert main(["sites", "set", site.site_id, "--timezone", "Europe/Berlin"]) == 0
    assert "time zone Europe/Berlin" in capsys.readouterr().out
    assert SiteStore(boto3.client("dynamodb"), TABLE).by_id(site.site_id).timezone == "Europe/Berlin"  # type: ignore[union-attr]
    assert main(["sites", "set", site.site_id, "--timezone", "Mars/Olympus"]) == 2
    assert "unknown time zone" in capsys.readouterr().err


def test_annotations_add_list_edit_remove_and_the_query_returns_them(
    registered: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["annotations", "add", DOMAIN, "2024-09-10", "Newsletter sent", "--tag", "Email"]) == 0
    note_id = capsys.readouterr().out.strip()
    assert note_id.startswith("ann_")
    with pytest.raises(SystemExit):  # argparse refuses the day
        main(["annotations", "add", DOMAIN, "2024-13-01", "bad day"])
    assert "not a YYYY-MM-DD date" in capsys.readouterr().err
    assert (
        main(["annotations", "edit", note_id, "--content", "Newsletter sent (40% off)", "--tag", "promo"])
        == 0
    )
    capsys.readouterr()
    assert main(["annotations", "list", DOMAIN, "--from", "2024-09-01", "--format", "json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["date"], listed["content"], listed["tags"]) == (
        note_id,
        "2024-09-10",
        "Newsletter sent (40% off)",
        ["promo"],
    )
    query = {"site_id": DOMAIN, "metrics": ["visitors"], "date_range": ["2024-09-01", "2024-09-11"]}
    assert main(["query", json.dumps({**query, "include": {"annotations": True}}), "--compact"]) == 0
    assert [a["id"] for a in json.loads(capsys.readouterr().out)["meta"]["annotations"]] == [note_id]
    assert main(["annotations", "remove", note_id]) == 0
    capsys.readouterr()
    assert main(["annotations", "list", DOMAIN, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["annotations", "remove", note_id]) == 2
    assert "no such annotation" in capsys.readouterr().err


def test_realtime_from_the_cli(registered: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["realtime", DOMAIN, "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["visitors"] == 0 and len(answer["minutes"]) == 30
    assert main(["realtime", DOMAIN]) == 0
    assert "current visitors" in capsys.readouterr().out
    assert main(["realtime", "nowhere.example.com"]) == 2
