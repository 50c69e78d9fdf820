"""A goal definition from what a person or a script sends: checked once, for the API and the CLI."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from touchline.config.attribution_settings import TRACK_METHODS, ConversionGoal
from touchline.goals.patterns import check_pattern

MAX_PROPERTIES = 10
MAX_NAME = 120


def new_goal_id() -> str:
    return "g" + secrets.token_hex(6)


def make_goal(
    name: str,
    *,
    value: Decimal | None = None,
    currency: str = "",
    track_method: str = "javascript",
    event_name: str = "",
    page_pattern: str = "",
    properties: Mapping[str, str] | None = None,
    active: bool = True,
    goal_id: str = "",
) -> ConversionGoal:
    """The goal, or ValueError naming what is wrong (the API's 400, the CLI's message)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"a goal's name is 1 to {MAX_NAME} characters")
    if track_method not in TRACK_METHODS:
        raise ValueError(f"track_method is one of {', '.join(TRACK_METHODS)}")
    if track_method == "page_url":
        if not page_pattern:
            raise ValueError("a page_url goal needs its page_pattern (e.g. /blog/*)")
        if event_name:
            raise ValueError("a page_url goal matches pageviews: it takes a page_pattern, not an event_name")
        page_pattern = check_pattern(page_pattern)
    elif page_pattern:
        raise ValueError(f"a {track_method} goal is a custom event: page_pattern is for page_url goals")
    event_name = event_name.strip()
    if len(event_name) > MAX_NAME:
        raise ValueError(f"an event name is at most {MAX_NAME} characters")
    pairs = tuple(sorted((str(k), str(v)) for k, v in (properties or {}).items()))
    if len(pairs) > MAX_PROPERTIES:
        raise ValueError(f"a goal matches at most {MAX_PROPERTIES} properties")
    if any(not k or len(k) > 300 or len(v) > 2000 for k, v in pairs):
        raise ValueError("a property match is a name of 1-300 characters and a value of at most 2000")
    if value is not None:
        if not value.is_finite() or value < 0 or value > Decimal("1e12"):
            raise ValueError("a goal's value is a number from 0 to 10^12")
        if len(currency) != 3 or not currency.isalpha():
            raise ValueError("a goal with a value needs its ISO 4217 currency")
    return ConversionGoal(
        name=name,
        value=value,
        currency=currency.upper() if value is not None else "",
        track_method=track_method,
        event_name=event_name,
        page_pattern=page_pattern,
        properties=pairs,
        active=active,
        goal_id=goal_id or new_goal_id(),
        updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


EDITABLE = ("name", "value", "currency", "track_method", "event_name", "page_pattern", "properties", "active")


def edited(goal: ConversionGoal, changes: Mapping[str, Any]) -> ConversionGoal:
    """`goal` with `changes` applied (only the fields given; `value: None` clears the value),
    checked as a new goal would be; the id stays."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"unknown goal fields: {', '.join(sorted(unknown))}")
    fields: dict[str, Any] = {
        "value": goal.value,
        "currency": goal.currency,
        "track_method": goal.track_method,
        "event_name": goal.event_name,
        "page_pattern": goal.page_pattern,
        "properties": dict(goal.properties),
        "active": goal.active,
    }
    fields.update({k: v for k, v in changes.items() if k != "name"})
    if fields["track_method"] == "page_url" and "track_method" in changes and "event_name" not in changes:
        fields["event_name"] = ""
    if fields["track_method"] != "page_url" and "track_method" in changes and "page_pattern" not in changes:
        fields["page_pattern"] = ""
    name = changes.get("name") or goal.name
    return make_goal(name, goal_id=goal.id, **fields)


def goal_out(goal: ConversionGoal) -> dict[str, Any]:
    """A goal as the API, the CLI's `--format json` and the dashboard show it."""
    return {
        "id": goal.id,
        "name": goal.name,
        "track_method": goal.track_method,
        "event_name": goal.custom_event or None,
        "page_pattern": goal.page_pattern or None,
        "properties": dict(goal.properties),
        "value": str(goal.value) if goal.value is not None else None,
        "currency": goal.currency,
        "active": goal.active,
        "updated_at": goal.updated_at or None,
    }
