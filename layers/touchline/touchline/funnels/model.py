"""A funnel definition: 2-8 steps, each a page pattern or a goal, a window and an ordering mode."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from touchline.goals.patterns import check_pattern

MIN_STEPS, MAX_STEPS = 2, 8
DEFAULT_WINDOW_HOURS = 24.0
MAX_WINDOW_HOURS = 24.0 * 90


@dataclass(frozen=True, slots=True)
class Step:
    """`kind` "page" (a Plausible page pattern) or "goal" (a goal of the site, by name)."""

    kind: str
    value: str

    def label(self) -> str:
        return self.value if self.kind == "page" else f"goal:{self.value}"

    def as_dict(self) -> dict[str, str]:
        return {self.kind: self.value}


@dataclass(frozen=True, slots=True)
class Funnel:
    funnel_id: str
    site_id: str
    name: str
    steps: tuple[Step, ...]
    window_hours: float = DEFAULT_WINDOW_HOURS
    # Strict: the steps are consecutive hits, nothing in between; loose: other pageviews and
    # events may come between them (Plausible's two modes, `windowFunnel`'s default and
    # `strict_order`).
    strict: bool = False
    created_at: str = ""

    @property
    def window_ms(self) -> int:
        return round(self.window_hours * 3_600_000)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.funnel_id,
            "site_id": self.site_id,
            "name": self.name,
            "steps": [s.as_dict() for s in self.steps],
            "window_hours": self.window_hours,
            "strict": self.strict,
            "created_at": self.created_at or None,
        }


def parse_step(raw: Any) -> Step:
    """`{"page": "/pricing"}`, `{"goal": "Signup"}`, or the CLI's text: a path is a page
    pattern, anything else a goal's name (`goal:NAME` forces a goal)."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("goal:"):
            return _step("goal", text[5:])
        return _step("page" if text.startswith("/") else "goal", text)
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((kind, value),) = raw.items()
        if kind in ("page", "goal") and isinstance(value, str):
            return _step(kind, value)
    raise ValueError('a step is {"page": "/path/*"} or {"goal": "Goal name"}')


def _step(kind: str, value: str) -> Step:
    value = value.strip()
    if kind == "page":
        return Step("page", check_pattern(value))
    if not value or len(value) > 120:
        raise ValueError("a goal step names a goal of the site (1-120 characters)")
    return Step("goal", value)


def make_funnel(
    site_id: str,
    name: str,
    steps: Sequence[Any],
    window_hours: float | None = None,
    strict: bool = False,
    funnel_id: str = "",
) -> Funnel:
    """A checked funnel, or ValueError saying what is wrong."""
    name = name.strip()
    if not name or len(name) > 120:
        raise ValueError("a funnel's name is 1 to 120 characters")
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise ValueError(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(steps)}")
    parsed = tuple(parse_step(s) for s in steps)
    window = DEFAULT_WINDOW_HOURS if window_hours is None else float(window_hours)
    if not 0 < window <= MAX_WINDOW_HOURS:
        raise ValueError(f"window_hours is more than 0 and at most {MAX_WINDOW_HOURS:g}")
    return Funnel(
        funnel_id=funnel_id or "f" + secrets.token_hex(6),
        site_id=site_id,
        name=name,
        steps=parsed,
        window_hours=window,
        strict=bool(strict),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
