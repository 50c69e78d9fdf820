"""A site's time zone through the management API: the dashboard shows and edits it (its reporting
days are that zone's), and a shared link's session says it so the read-only view counts the same
days as the site's owner sees."""

from __future__ import annotations

from accounts_world import World, operator
from touchline.accounts.permissions import Role


def test_an_editor_sets_the_time_zone_and_a_wrong_one_is_a_400(world: World) -> None:
    site = world.fresh_site(world.a)
    editor = world.a.members[Role.EDITOR]
    status, before, _ = world.request("GET", f"/api/v1/sites/{site}", user=editor)
    assert (status, before["timezone"]) == (200, "UTC")
    status, after, _ = world.request(
        "PATCH", f"/api/v1/sites/{site}", user=editor, body={"timezone": "Europe/Berlin"}
    )
    assert (status, after["timezone"]) == (200, "Europe/Berlin")
    assert world.ops.sites.by_id(site).timezone == "Europe/Berlin"  # type: ignore[union-attr]
    status, refused, _ = world.request(
        "PATCH", f"/api/v1/sites/{site}", user=editor, body={"timezone": "Europe/Atlantis"}
    )
    assert status == 400 and "Europe/Atlantis" in str(refused)
    assert world.ops.sites.by_id(site).timezone == "Europe/Berlin"  # type: ignore[union-attr]
    listed = world.request("GET", "/api/v1/sites", user=editor)[1]
    assert {s["site_id"]: s["timezone"] for s in listed}[site] == "Europe/Berlin"


def test_a_shared_link_session_carries_the_site_time_zone(world: World) -> None:
    site = world.fresh_site(world.a)
    world.ops.update_site(operator(), site, timezone="America/New_York")
    link, _ = world.ops.create_shared_link(operator(), site, "tz")
    status, session, _ = world.request("POST", "/api/v1/shared-links/session", body={"link": link})
    assert status == 201 and (session["site_id"], session["timezone"]) == (site, "America/New_York")
