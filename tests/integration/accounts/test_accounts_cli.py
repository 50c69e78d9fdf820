"""The CLI's management commands call the same `Accounts` functions as the API: what they change
is validated the same way and lands in the organisation's audit log as the operator's doing."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from accounts_world import World, drain_into_warehouse
from touchline.accounts.permissions import Role
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.sites import SiteStore
from touchline_dev.cli.accounts import operator as cli_operator
from touchline_dev.cli.main import main


def test_goals_integrations_and_site_settings_from_the_cli_are_audited(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    site_id = world.fresh_site(world.a)  # the fixtures' operator audits into a list, not the log
    assert main(["goals", "add", site_id, "Trial", "--value", "12.50", "--currency", "eur"]) == 0
    assert main(["goals", "add", site_id, "Demo"]) == 0
    assert main(["goals", "remove", site_id, "Demo"]) == 0
    assert main(["goals", "remove", site_id, "Never added"]) == 2  # as the API's 404
    secret = "whsec_" + uuid.uuid4().hex
    assert main(["integrations", "add", "stripe", site_id, "--secret", secret]) == 0
    assert f"/webhooks/stripe/{site_id}" in capsys.readouterr().out
    assert main(["sites", "set", site_id, "--timezone", "Asia/Tokyo", "--lookback-days", "45"]) == 0
    assert main(["sites", "set", site_id, "--timezone", "Mars/Olympus"]) == 2
    assert (
        main(["sites", "set", site_id, "--consent", "opt_in", "--consent-analytics-categories", "C0002"]) == 0
    )
    assert "unknown time zone" in capsys.readouterr().err
    # A key for one of an organisation's sites is the organisation's (listed, revocable, audited).
    assert main(["api-keys", "create", site_id, "--name", "cli"]) == 0
    key = capsys.readouterr().out.strip()
    owner = world.a.members[Role.OWNER]
    _, keys, _ = world.request("GET", f"/api/v1/orgs/{world.a.org_id}/api-keys", user=owner)
    made = next(k for k in keys if key.startswith(k["prefix"]))
    assert made["site_ids"] == [site_id]
    assert main(["api-keys", "revoke", made["key_id"]]) == 0

    table = world.env["TOUCHLINE_CONFIG_TABLE"]
    settings = AttributionSettingsStore(boto3.client("dynamodb"), table).get(site_id)
    assert [(g.name, str(g.value), g.currency) for g in settings.goals] == [("Trial", "12.50", "EUR")]
    assert settings.lookback_days == 45
    stored = SiteStore(boto3.client("dynamodb"), table).by_id(site_id)
    assert stored is not None and stored.timezone == "Asia/Tokyo"
    assert (stored.consent.mode, stored.consent.analytics) == ("opt_in", ("c0002",))

    drain_into_warehouse(world)
    _, page, _ = world.request(
        "GET", "/api/v1/audit", user=owner, query={"org_id": world.a.org_id, "site_id": site_id}
    )
    done = {(e["action"], e["target_id"]) for e in page["entries"] if e["outcome"] == "success"}
    assert {
        ("goal.create", "Trial"),
        ("goal.create", "Demo"),
        ("goal.delete", "Demo"),
        ("integration.add", "stripe"),
        ("site.update", site_id),
    } <= done, done
    by_cli = {"org_id": world.a.org_id, "actor_id": cli_operator().principal.id}
    _, page, _ = world.request("GET", "/api/v1/audit", user=owner, query=by_cli)
    keyed = {(e["action"], e["target_id"]) for e in page["entries"]}
    assert {("api_key.create", made["key_id"]), ("api_key.revoke", made["key_id"])} <= keyed, keyed
    assert all(e["actor_type"] == "operator" for e in page["entries"])
    updates = [e["details"] for e in page["entries"] if e["action"] == "site.update"]
    assert {"timezone": "Asia/Tokyo", "lookback_days": 45} in updates, updates
    assert {"consent": "opt_in", "consent_categories": {"analytics": ["C0002"]}} in updates, updates
    assert secret not in json.dumps(page)

    capsys.readouterr()  # the loader's metrics line
    assert main(["audit", "--org", world.a.org_id, "--site", site_id, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {(e["action"], e["target_id"]) for e in printed} >= done
