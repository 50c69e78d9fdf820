"""A site's consent setting and what one call's consent grants under it (docs/consent.md).

A person's choice is a map of the site's own category ids to true/false, as Segment's consent
object carries it (`context.consent.categoryPreferences`: `{"Advertising": true, "Analytics":
false}`; OneTrust's ids are `C0001`…). Touchline uses two purposes, each named by one or more of
the site's categories (case-insensitive):

* `analytics`: linking a call to a person — the visitor id, the user id, identity links, people
  traits, devices, relationships;
* `advertising`: ad click ids (gclid, fbclid, …), in the `click_id` column and in the URL.

The mode decides a purpose a call's choice does not settle: `opt_in` (GDPR's rule: refused
unless granted), `opt_out` (granted unless refused); `off` (the default) enforces nothing and
only records choices. An empty `categoryPreferences` refuses everything, as Segment reads it.
Each call carries its own choice (Segment requires it on every event); nothing is looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["off", "opt_in", "opt_out"]
MODES: tuple[str, ...] = ("off", "opt_in", "opt_out")
PURPOSES: tuple[str, ...] = ("analytics", "advertising")
DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "analytics": ("analytics",),
    "advertising": ("advertising", "marketing"),
}
MAX_CATEGORIES = 50
MAX_CATEGORY = 100

Choice = dict[str, bool]


@dataclass(frozen=True, slots=True)
class Grants:
    analytics: bool = True
    advertising: bool = True

    @property
    def everything(self) -> bool:
        return self.analytics and self.advertising


ALL = Grants()


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    mode: Mode = "off"
    analytics: tuple[str, ...] = DEFAULT_CATEGORIES["analytics"]
    advertising: tuple[str, ...] = DEFAULT_CATEGORIES["advertising"]

    @property
    def enforced(self) -> bool:
        return self.mode != "off"

    def grants(self, choice: Choice | None) -> Grants:
        """What a call with this choice (None: it carried none) may have stored."""
        if self.mode == "off":
            return ALL
        return Grants(self._purpose(self.analytics, choice), self._purpose(self.advertising, choice))

    def _purpose(self, categories: tuple[str, ...], choice: Choice | None) -> bool:
        if choice is None:
            return self.mode == "opt_out"
        if not choice:
            return False  # an empty categoryPreferences: nothing consented to
        lowered = {name.lower(): granted for name, granted in choice.items()}
        said = [lowered[c] for c in categories if c in lowered]
        if not said:
            return self.mode == "opt_out"
        return all(said)

    def categories(self) -> dict[str, Any]:
        return {"analytics": list(self.analytics), "advertising": list(self.advertising)}


def policy(mode: str | None = None, categories: Mapping[str, Iterable[str]] | None = None) -> ConsentPolicy:
    """A validated policy; raises ValueError with a message fit for a 400."""
    mode = mode or "off"
    if mode not in MODES:
        raise ValueError(f"consent must be one of {', '.join(MODES)}, not {mode!r}")
    given = dict(categories or {})
    unknown = sorted(set(given) - set(PURPOSES))
    if unknown:
        raise ValueError(f"consent categories are given for {', '.join(PURPOSES)}, not {', '.join(unknown)}")
    named: dict[str, tuple[str, ...]] = {}
    for purpose in PURPOSES:
        names = given.get(purpose)
        if names is None:
            named[purpose] = DEFAULT_CATEGORIES[purpose]
            continue
        cleaned = tuple(dict.fromkeys(str(n).strip().lower() for n in names if str(n).strip()))
        if not cleaned or len(cleaned) > MAX_CATEGORIES or any(len(n) > MAX_CATEGORY for n in cleaned):
            raise ValueError(
                f"the {purpose} consent categories must be 1-{MAX_CATEGORIES} names of at most "
                f"{MAX_CATEGORY} characters"
            )
        named[purpose] = cleaned
    return ConsentPolicy(mode, named["analytics"], named["advertising"])  # type: ignore[arg-type]


OFF = ConsentPolicy()


def choice_of(value: Any) -> Choice | None:
    """A consent object as Segment sends it (`{"categoryPreferences": {...}}`) or its bare map
    (`{"Analytics": true}`, as the tag and an identify trait may send it) → category (as the
    site names it) → granted; None when it says nothing (absent, not an object, no categories
    object). Values other than booleans (and "true"/"false") are ignored."""
    if not isinstance(value, dict):
        return None
    if "categoryPreferences" in value:
        value = value["categoryPreferences"]
        if not isinstance(value, dict):
            return None
    elif not value or any(not isinstance(v, bool | str) for v in value.values()):
        return None  # an object of something else (destinationPreferences only, …)
    choice: Choice = {}
    for key, granted in list(value.items())[:MAX_CATEGORIES]:
        name = str(key).strip()[:MAX_CATEGORY]
        if not name:
            continue
        if isinstance(granted, bool):
            choice[name] = granted
        elif isinstance(granted, str) and granted.strip().lower() in ("true", "false"):
            choice[name] = granted.strip().lower() == "true"
    return choice
