"""`touchline keys create|list|revoke` against the config table (moto), as an operator runs them."""

from __future__ import annotations

import json

import boto3
import pytest

from helpers import TABLE
from touchline.config.sites import SiteStore
from touchline.config.write_keys import WriteKeyStore, key_hash
from touchline_dev.cli.main import main


def test_create_list_revoke(aws: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    ddb = boto3.client("dynamodb")
    site = SiteStore(ddb, TABLE).add("shop.example.com")

    assert main(["keys", "create", "https://www.shop.example.com/"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("tlwk_") and len(key) > 40
    record = WriteKeyStore(ddb, TABLE).lookup(key)
    assert record is not None and (record.site_id, record.revoked) == (site.site_id, False)

    assert main(["keys", "create", site.site_id]) == 0
    second = capsys.readouterr().out.strip()
    assert second != key

    assert main(["keys", "list", site.site_id, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(k["key_id"] for k in listed) == sorted(key_hash(k)[:12] for k in (key, second))
    assert {k["status"] for k in listed} == {"active"}
    assert key not in json.dumps(listed)

    assert main(["keys", "revoke", key_hash(key)[:12]]) == 0
    capsys.readouterr()
    assert WriteKeyStore(ddb, TABLE).lookup(key).revoked  # type: ignore[union-attr]
    assert not WriteKeyStore(ddb, TABLE).lookup(second).revoked  # type: ignore[union-attr]


def test_unknown_site_and_key_are_clear_errors(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "nowhere.example.com"]) == 2
    assert "touchline sites add" in capsys.readouterr().err
    assert main(["keys", "revoke", "000000000000"]) == 2
    assert "no write key" in capsys.readouterr().err
