"""A site's settings through the management API: time zone, attribution window, half-life,
cookieless, cart abandonment, as the query engine and the collector read them from the config table."""

from __future__ import annotations

import boto3

from accounts_world import World, drain_into_warehouse
from touchline.accounts.permissions import Role
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.sites import SiteStore


def test_an_editor_creates_and_changes_a_sites_settings(world: World) -> None:
    editor = world.a.members[Role.EDITOR]
    status, site, _ = world.request(
        "POST",
        "/api/v1/sites",
        user=editor,
        body={"org_id": world.a.org_id, "domain": "tz-made.example.com", "timezone": "Europe/Berlin"},
    )
    assert status == 201, site
    assert (site["timezone"], site["lookback_days"], site["cookieless"]) == ("Europe/Berlin", 30, False)

    assert site["cart_abandon_hours"] == 24.0
    body = {
        "timezone": "America/New_York",
        "lookback_days": 14,
        "half_life_days": 2.5,
        "cookieless": True,
        "cart_abandon_hours": 6.5,
    }
    status, changed, _ = world.request("PATCH", f"/api/v1/sites/{site['site_id']}", user=editor, body=body)
    assert status == 200, changed
    assert {key: changed[key] for key in body} == body

    # What the other functions read: the stores, not the API's echo.
    table = world.env["TOUCHLINE_CONFIG_TABLE"]
    stored = SiteStore(boto3.client("dynamodb"), table).by_id(site["site_id"])
    assert stored is not None and (stored.timezone, stored.cookieless) == ("America/New_York", True)
    windows = AttributionSettingsStore(boto3.client("dynamodb"), table).get(site["site_id"])
    assert (windows.lookback_days, windows.half_life_days, windows.cart_abandon_hours) == (14, 2.5, 6.5)
    for hours in (0, -1, 24 * 91, "soon"):
        status, answer, _ = world.request(
            "PATCH", f"/api/v1/sites/{site['site_id']}", user=editor, body={"cart_abandon_hours": hours}
        )
        assert status == 400, answer
    _, listed, _ = world.request("GET", "/api/v1/sites", user=editor, query={"org_id": world.a.org_id})
    assert {s["site_id"]: s["timezone"] for s in listed}[site["site_id"]] == "America/New_York"


def test_an_unknown_time_zone_is_a_400_and_changes_nothing(world: World) -> None:
    owner = world.a.members[Role.OWNER]
    site_id = world.fresh_site(world.a)
    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", "utc+2"):
        status, answer, _ = world.request(
            "PATCH",
            f"/api/v1/sites/{site_id}",
            user=owner,
            body={"domain": f"renamed-{site_id}.example.com", "timezone": zone},
        )
        assert status == 400 and "time zone" in answer["error"]["message"], answer
    _, site, _ = world.request("GET", f"/api/v1/sites/{site_id}", user=owner)
    assert site["timezone"] == "UTC" and not site["domain"].startswith("renamed-")

    status, answer, _ = world.request(
        "POST",
        "/api/v1/sites",
        user=owner,
        body={"org_id": world.a.org_id, "domain": "tz-bad.example.com", "timezone": "Nowhere/City"},
    )
    assert status == 400, answer
    _, listed, _ = world.request("GET", "/api/v1/sites", user=owner)
    assert "tz-bad.example.com" not in {s["domain"] for s in listed}


def test_a_taken_domain_is_a_409_and_a_bad_one_a_400_on_create_and_rename(world: World) -> None:
    owner = world.a.members[Role.OWNER]
    taken = world.fresh_site(world.a)
    _, site, _ = world.request("GET", f"/api/v1/sites/{taken}", user=owner)
    other = world.fresh_site(world.a)
    for method, path, body in (
        ("POST", "/api/v1/sites", {"org_id": world.a.org_id}),
        ("PATCH", f"/api/v1/sites/{other}", {}),
    ):
        status, answer, _ = world.request(method, path, user=owner, body={**body, "domain": site["domain"]})
        assert (status, answer["error"]["code"]) == (409, "conflict"), answer
        status, answer, _ = world.request(method, path, user=owner, body={**body, "domain": "not a domain"})
        assert (status, answer["error"]["code"]) == (400, "invalid_request"), answer


def test_the_consent_setting_is_stored_on_the_site_and_audited(world: World) -> None:
    owner = world.a.members[Role.OWNER]
    site_id = world.fresh_site(world.a)
    body = {"consent": "opt_in", "consent_categories": {"analytics": ["C0002", "Analytics"]}}
    status, changed, _ = world.request("PATCH", f"/api/v1/sites/{site_id}", user=owner, body=body)
    assert status == 200, changed
    assert (changed["consent"], changed["consent_categories"]) == (
        "opt_in",
        {"analytics": ["c0002", "analytics"], "advertising": ["advertising", "marketing"]},
    )
    # Categories alone keep the mode; the mode alone keeps the categories.
    status, changed, _ = world.request(
        "PATCH",
        f"/api/v1/sites/{site_id}",
        user=owner,
        body={"consent_categories": {"advertising": ["C0004"]}},
    )
    assert status == 200 and changed["consent"] == "opt_in", changed
    status, changed, _ = world.request(
        "PATCH", f"/api/v1/sites/{site_id}", user=owner, body={"consent": "opt_out"}
    )
    assert (changed["consent"], changed["consent_categories"]["advertising"]) == ("opt_out", ["c0004"])
    # What the collector and the tracking API read: the site item.
    stored = SiteStore(boto3.client("dynamodb"), world.env["TOUCHLINE_CONFIG_TABLE"]).by_id(site_id)
    assert stored is not None
    assert (stored.consent.mode, stored.consent.analytics, stored.consent.advertising) == (
        "opt_out",
        ("c0002", "analytics"),
        ("c0004",),
    )
    for bad in (
        {"consent": "sometimes"},
        {"consent_categories": {"analytics": []}},
        {"consent_categories": {"x": ["a"]}},
    ):
        status, answer, _ = world.request("PATCH", f"/api/v1/sites/{site_id}", user=owner, body=bad)
        assert status == 400, (bad, answer)
    viewer = world.a.members[Role.VIEWER]
    assert world.request("PATCH", f"/api/v1/sites/{site_id}", user=viewer, body={"consent": "off"})[0] == 403
    drain_into_warehouse(world)
    _, page, _ = world.request(
        "GET", "/api/v1/audit", user=owner, query={"org_id": world.a.org_id, "site_id": site_id}
    )
    changes = [
        e["details"] for e in page["entries"] if e["action"] == "site.update" and e["outcome"] == "success"
    ]
    assert {"consent": "opt_out"} in changes and body in changes, changes
