"""`touchline keys create|list|revoke` against the config table (moto), as an operator runs them."""

from __future__ import annotations

import json

import boto3
import pytest

from helpers import TABLE
from touchline.config.sites import SiteStore
from touchline.config.tokens import TokenResolver, TokenStore, token_hash
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


def test_payments_tokens_create_list_revoke(aws: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 13: payments API tokens are revocable by id, like write keys; the other token keeps working."""
    ddb = boto3.client("dynamodb")
    site = SiteStore(ddb, TABLE).add("shop.example.com")
    assert main(["tokens", "create", site.site_id, "--name", "backend"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["tokens", "create", site.site_id]) == 0
    other = capsys.readouterr().out.strip()
    store = TokenStore(ddb, TABLE)
    assert store.site_for(token) == store.site_for(other) == site.site_id

    assert main(["tokens", "list", site.site_id, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(t["token_id"] for t in listed) == sorted(token_hash(t)[:12] for t in (token, other))
    assert {t["revoked"] for t in listed} == {False} and token not in json.dumps(listed)

    assert main(["tokens", "revoke", token_hash(token)[:12]]) == 0
    assert "within" in capsys.readouterr().err
    assert store.site_for(token) is None and store.site_for(other) == site.site_id
    assert main(["tokens", "revoke", token_hash(token)[:12]]) == 0  # idempotent
    assert main(["tokens", "list", "--format", "json"]) == 0
    by_id = {t["token_id"]: t for t in json.loads(capsys.readouterr().out)}
    assert by_id[token_hash(token)[:12]]["revoked"] and by_id[token_hash(token)[:12]]["revoked_at"]
    assert not by_id[token_hash(other)[:12]]["revoked"]

    assert main(["tokens", "revoke", "000000000000"]) == 2
    assert "no payments API token" in capsys.readouterr().err


def test_a_revoked_token_is_refused_once_the_cache_time_passes(aws: dict[str, str]) -> None:
    """A warm function trusts a verified token for its cache time (the documented bound), no longer."""
    store = TokenStore(boto3.client("dynamodb"), TABLE)
    token, record = store.create("site-1")
    now = [1000.0]
    resolver = TokenResolver(store, ttl_seconds=60.0, clock=lambda: now[0])
    assert resolver.site_for(token) == "site-1"
    store.revoke(record.token_id)
    now[0] += 59.0
    assert resolver.site_for(token) == "site-1"  # still inside the cache time
    now[0] += 1.5
    assert resolver.site_for(token) is None
    now[0] += 3600.0
    assert resolver.site_for(token) is None  # a refusal is not cached as a grant later
