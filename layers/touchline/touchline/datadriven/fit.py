"""Fitting the data-driven models of a site: per conversion kind and touches variant, every model's
per-channel weight (Markov removal effect or Shapley value), unless the sample is too small.

A fit is only made from at least `min_journeys` journeys with at least `min_conversions`
conversions of the kind; below that it is stored with its status and counts and no weights, and
the model credits nothing for that kind (reports say why). Fits are stored in `attribution_fits`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from touchline.config.attribution_settings import Thresholds
from touchline.datadriven import MARKOV_ORDERS, MODELS, markov, shapley
from touchline.datadriven.markov import PathCount
from touchline.datadriven.paths import QueryRows, path_counts

OK = "ok"
TOO_FEW_JOURNEYS = "too_few_journeys"
TOO_FEW_CONVERSIONS = "too_few_conversions"


@dataclass
class Fit:
    model: str
    conversion_kind: str
    touches: str
    status: str
    method: str
    journeys: int
    conversions: int
    effects: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def shares(self) -> dict[str, float]:
        return markov.shares(self.effects)

    def reason(self, thresholds: Thresholds) -> str:
        """Why the model was not computed, in words (empty when it was)."""
        if self.status == TOO_FEW_JOURNEYS:
            return (
                f"not computed: {self.journeys:,} journeys, fewer than the minimum of "
                f"{thresholds.min_journeys:,}"
            )
        if self.status == TOO_FEW_CONVERSIONS:
            return (
                f"not computed: {self.conversions:,} conversions, fewer than the minimum of "
                f"{thresholds.min_conversions:,}"
            )
        return ""


def fit_paths(
    paths: list[PathCount],
    conversion_kind: str,
    touches: str,
    thresholds: Thresholds,
    models: Iterable[str] = MODELS,
) -> list[Fit]:
    """Every model fitted on one kind's paths (its conversions and all non-conversions)."""
    journeys = sum(p.conversions + p.nulls for p in paths)
    conversions = sum(p.conversions for p in paths)
    status = (
        TOO_FEW_JOURNEYS
        if journeys < thresholds.min_journeys
        else TOO_FEW_CONVERSIONS
        if conversions < thresholds.min_conversions
        else OK
    )
    fits = []
    for model in models:
        started = time.perf_counter()
        result = Fit(model, conversion_kind, touches, status, "", journeys, conversions)
        if status == OK and model in MARKOV_ORDERS:
            result.method = "removal_effect"
            result.effects = markov.removal_effects(markov.fit(paths, MARKOV_ORDERS[model]))
        elif status == OK:
            result.effects, result.method = shapley.shapley_values(channel_sets(paths))
        result.seconds = time.perf_counter() - started
        fits.append(result)
    return fits


def channel_sets(paths: Iterable[PathCount]) -> list[shapley.SetCount]:
    counts: dict[frozenset[str], list[int]] = defaultdict(lambda: [0, 0])
    for p in paths:
        entry = counts[frozenset(p.channels)]
        entry[0] += p.conversions
        entry[1] += p.conversions + p.nulls
    return [shapley.SetCount(channels, c, j) for channels, (c, j) in counts.items()]


def fit_site(
    rows: QueryRows,
    site_id: str,
    touches: str,
    thresholds: Thresholds,
    models: Iterable[str] = MODELS,
    kinds: Iterable[str] = ("order", "goal"),
    journey_scope: str = "1",
    parameters: dict[str, Any] | None = None,
) -> list[Fit]:
    """Aggregate the site's journeys in ClickHouse, then fit `models` for every kind in `kinds`."""
    by_kind = path_counts(rows, site_id, touches, journey_scope, parameters)
    fits = []
    for kind in kinds:
        fits.extend(fit_paths(by_kind.get(kind, []), kind, touches, thresholds, list(models)))
    return fits


def fit_rows(
    site_id: str, fits: list[Fit], thresholds: Thresholds, fitted_at_ms: int, version: int
) -> list[list[Any]]:
    """`attribution_fits` rows: a summary row per fit, then one per channel."""
    rows: list[list[Any]] = []
    fitted_at = datetime.fromtimestamp(fitted_at_ms / 1000, UTC)
    for f in fits:
        base = [site_id, f.model, f.conversion_kind, f.touches]
        tail = [f.journeys, f.conversions, thresholds.min_journeys, thresholds.min_conversions]
        rows.append([*base, "", f.status, f.method, *tail, 0.0, 0.0, fitted_at, version, 0])
        shares = f.shares
        for channel, effect in sorted(f.effects.items()):
            rows.append(
                [*base, channel, f.status, f.method, *tail, effect, shares[channel], fitted_at, version, 0]
            )
    return rows


FIT_COLUMNS = [
    ("site_id", "String"),
    ("model", "String"),
    ("conversion_kind", "String"),
    ("touches", "String"),
    ("channel", "String"),
    ("status", "String"),
    ("method", "String"),
    ("journeys", "UInt64"),
    ("conversions", "UInt64"),
    ("min_journeys", "UInt64"),
    ("min_conversions", "UInt64"),
    ("effect", "Float64"),
    ("share", "Float64"),
    ("fitted_at", "DateTime64(3, 'UTC')"),
    ("version", "UInt64"),
    ("is_deleted", "UInt8"),
]


def stored_fits(rows: QueryRows, site_id: str, touches: str = "all") -> list[Fit]:
    """The fits stored for a site (one variant), as `Fit`s."""
    found: dict[tuple[str, str], Fit] = {}
    for model, kind, channel, status, method, journeys, conversions, effect in rows(
        """SELECT model, conversion_kind, channel, status, method, journeys, conversions, effect
           FROM attribution_fits FINAL WHERE site_id = {site:String} AND touches = {touches:String}
           ORDER BY model, conversion_kind, channel""",
        {"site": site_id, "touches": touches},
    ):
        entry = found.setdefault(
            (model, kind), Fit(model, kind, touches, status, method, int(journeys), int(conversions))
        )
        if channel:
            entry.effects[channel] = float(effect)
    return list(found.values())
