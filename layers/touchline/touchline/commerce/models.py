"""Fitting BG/NBD and Gamma-Gamma per site and currency on the staged customer summaries.

The per-customer sums are ClickHouse aggregates over the staged table (one query per likelihood
evaluation, ~50 per fit); the gamma-function terms and BFGS run here (touchline.commerce.clv).
Predictions need the Gauss hypergeometric series, which depends on (x, T) only: it is evaluated
here once per distinct pair and joined back in SQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from touchline.commerce.clv import (
    BgNbd,
    BgNbdSample,
    BgNbdSums,
    Fit,
    GammaGamma,
    GammaGammaSample,
    GammaGammaSums,
    ListBgNbdSample,
    ListGammaGammaSample,
    fit_bgnbd,
    fit_gamma_gamma,
)

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

FITTED = "fitted"
TOO_FEW = "too_few_customers"
NOT_CONVERGED = "not_converged"
HORIZONS_DAYS = (90, 365)
# Refit with this penalizer when the plain maximum likelihood does not converge (lifetimes' advice).
FALLBACK_PENALIZER = 0.01
# Up to this many customers a fit reads the sample once into memory; above, each likelihood
# evaluation is one aggregate query where the data lives (docs/commerce.md, "Speed").
IN_MEMORY_CUSTOMERS = 10_000
RUNAWAY = 20.0


@dataclass(frozen=True)
class ModelSettings:
    min_customers: int = 50
    min_repeat_customers: int = 10


@dataclass(frozen=True)
class SiteModel:
    currency: str
    status: str
    customers: int
    repeat_customers: int
    bgnbd: BgNbd | None = None
    gamma_gamma: GammaGamma | None = None
    bgnbd_loglik: float = 0.0
    gg_loglik: float = 0.0
    penalizer: float = 0.0


class SqlBgNbdSample:
    """(x, t_x, T) of one currency's customers in a staged ClickHouse table."""

    def __init__(self, client: Client, table: str, currency: str) -> None:
        self.client, self.table, self.currency = client, table, currency

    def histogram(self) -> Mapping[int, int]:
        rows = self.client.query(
            f"SELECT x, count() FROM {self.table} WHERE currency = {{c:String}} GROUP BY x",
            parameters={"c": self.currency},
        ).result_rows
        return {int(x): int(n) for x, n in rows}

    def sums(self, model: BgNbd) -> BgNbdSums:
        row = self.client.query(
            f"""
            SELECT sum(loglik), sum(d_r), sum(d_alpha), sum(s), sum(s_b) FROM (
                SELECT x, {{r:Float64}} AS m_r, {{alpha:Float64}} AS m_alpha,
                       log(m_alpha + big_t) AS u, log(m_alpha + t_x) AS w, m_r + x AS rx,
                       log({{a:Float64}}) - log({{b:Float64}} + x - 1) + rx * (u - w) AS log_d,
                       if(x > 0, 1.0 / (1.0 + exp(-log_d)), 0.0) AS s,
                       m_r * log(m_alpha) - rx * u
                           + if(x > 0, if(log_d > 0, log_d + log1p(exp(-log_d)), log1p(exp(log_d))), 0.0)
                           AS loglik,
                       log(m_alpha) - u + if(x > 0, s * (u - w), 0.0) AS d_r,
                       m_r / m_alpha - rx / (m_alpha + big_t)
                           + if(x > 0, s * rx * (1.0 / (m_alpha + big_t) - 1.0 / (m_alpha + t_x)), 0.0)
                           AS d_alpha,
                       if(x > 0, s / ({{b:Float64}} + x - 1), 0.0) AS s_b
                FROM {self.table} WHERE currency = {{c:String}})
            """,
            parameters={"c": self.currency, "r": model.r, "alpha": model.alpha, "a": model.a, "b": model.b},
        ).result_rows[0]
        return BgNbdSums(*(float(v) for v in row))


class SqlGammaGammaSample:
    """(x, mean repeat value) of one currency's repeat customers with positive spend."""

    WHERE = "currency = {c:String} AND x > 0 AND mean_repeat_value > 0"

    def __init__(self, client: Client, table: str, currency: str) -> None:
        self.client, self.table, self.currency = client, table, currency

    def histogram(self) -> Mapping[int, int]:
        rows = self.client.query(
            f"SELECT x, count() FROM {self.table} WHERE {self.WHERE} GROUP BY x",
            parameters={"c": self.currency},
        ).result_rows
        return {int(x): int(n) for x, n in rows}

    def fixed_sums(self) -> tuple[float, float]:
        row = self.client.query(
            f"SELECT sum(x * log(mean_repeat_value) + x * log(x)), sum(log(mean_repeat_value)) "
            f"FROM {self.table} WHERE {self.WHERE}",
            parameters={"c": self.currency},
        ).result_rows[0]
        return float(row[0]), float(row[1])

    def sums(self, gamma: float) -> GammaGammaSums:
        row = self.client.query(
            f"""SELECT sum(log(g)), sum(x * log(g)), sum(1.0 / g), sum(x / g) FROM (
                    SELECT x, {{gamma:Float64}} + x * mean_repeat_value AS g
                    FROM {self.table} WHERE {self.WHERE})""",
            parameters={"c": self.currency, "gamma": gamma},
        ).result_rows[0]
        return GammaGammaSums(*(float(v) for v in row))


def _rounded(values: tuple[float, ...]) -> tuple[float, ...]:
    """Six significant digits: sums in parallel come out in any order, and the last bits of a fit
    must not make every profile look changed."""
    return tuple(float(f"{v:.6g}") for v in values)


def fit_site(client: Client, customers: str, currency: str, settings: ModelSettings) -> SiteModel:
    counts = client.query(
        f"SELECT count(), countIf(x > 0 AND mean_repeat_value > 0), max(big_t), "
        f"avgIf(mean_repeat_value, x > 0 AND mean_repeat_value > 0) FROM {customers} "
        "WHERE currency = {c:String}",
        parameters={"c": currency},
    ).result_rows[0]
    total, spending, max_t, mean_value = int(counts[0]), int(counts[1]), counts[2], counts[3]
    if total < settings.min_customers or spending < settings.min_repeat_customers or not max_t:
        return SiteModel(currency, TOO_FEW, total, spending)
    bg_sample, gg_sample = _samples(client, customers, currency, total)
    bg_fit, penalizer = _fit_with_fallback(
        lambda pen: fit_bgnbd(bg_sample, time_scale=max_t / 10, penalizer=pen)
    )
    gg_fit, gg_penalizer = _fit_with_fallback(
        lambda pen: fit_gamma_gamma(gg_sample, value_scale=float(mean_value), penalizer=pen)
    )
    bg = BgNbd(*_rounded(bg_fit.params)) if _usable(bg_fit, (1.0, max_t / 10, 1.0, 1.0)) else None
    if bg is not None and abs(bg.a - 1) < 1e-6:  # E[purchases] divides by a - 1
        bg = None
    gg = GammaGamma(*_rounded(gg_fit.params)) if _usable(gg_fit, (1.0, 1.0, float(mean_value))) else None
    if gg is not None and gg.q <= 1:  # no finite mean spend
        gg = None
    status = FITTED if bg is not None and gg is not None else NOT_CONVERGED
    return SiteModel(
        currency, status, total, spending, bg, gg, bg_fit.loglik, gg_fit.loglik, max(penalizer, gg_penalizer)
    )


def _samples(
    client: Client, customers: str, currency: str, total: int
) -> tuple[BgNbdSample, GammaGammaSample]:
    """Small sites are fitted in memory (one query instead of one per evaluation), large ones in SQL."""
    if total > IN_MEMORY_CUSTOMERS:
        return SqlBgNbdSample(client, customers, currency), SqlGammaGammaSample(client, customers, currency)
    rows = client.query(
        f"SELECT x, t_x, big_t, mean_repeat_value FROM {customers} WHERE currency = {{c:String}}",
        parameters={"c": currency},
    ).result_rows
    return (
        ListBgNbdSample([(int(x), float(t_x), float(big_t)) for x, t_x, big_t, _ in rows]),
        ListGammaGammaSample([(int(x), float(m)) for x, _, _, m in rows]),
    )


def _usable(fit: Fit, scales: tuple[float, ...]) -> bool:
    """Converged, and not a runaway: a parameter e^20 times its scale or more (a likelihood that
    keeps rising as it goes to infinity, e.g. no sign of drop-out) is no estimate to predict from."""
    return fit.converged and all(
        math.isfinite(v) and v > 0 and abs(math.log(v / s)) < RUNAWAY
        for v, s in zip(fit.params, scales, strict=True)
    )


def _fit_with_fallback(fit: Any) -> tuple[Fit, float]:
    result: Fit = fit(0.0)
    if result.converged:
        return result, 0.0
    return fit(FALLBACK_PENALIZER), FALLBACK_PENALIZER


def prediction_rows(
    client: Client, customers: str, models: list[SiteModel]
) -> tuple[list[list[Any]], list[SiteModel]]:
    """(currency, x, T, E[purchases in 90 d | alive], E[… 365 d | alive]) per distinct (x, T), and
    the models (a fit whose predictions are not finite numbers is demoted to not converged)."""
    rows: list[list[Any]] = []
    kept: list[SiteModel] = []
    for model in models:
        if model.bgnbd is None:
            kept.append(model)
            continue
        pairs = client.query(
            f"SELECT DISTINCT x, big_t FROM {customers} WHERE currency = {{c:String}}",
            parameters={"c": model.currency},
        ).result_rows
        mine = []
        try:
            for x, big_t in pairs:
                values = [
                    model.bgnbd.alive_expected_purchases(int(x), float(big_t), h) for h in HORIZONS_DAYS
                ]
                if not all(math.isfinite(v) and v >= 0 for v in values):
                    raise ArithmeticError(f"prediction {values} for x={x}, T={big_t}")
                mine.append([model.currency, int(x), float(big_t), *values])
        except (ArithmeticError, OverflowError, ValueError):
            kept.append(replace(model, status=NOT_CONVERGED, bgnbd=None))
            continue
        rows.extend(mine)
        kept.append(model)
    return rows, kept


def stored_models(client: Client, site_id: str, as_of: date) -> dict[str, SiteModel]:
    """The fits stored for `as_of`, by currency (model_row read back): what the hourly profiles
    runs predict with between two daily fits."""
    rows = client.query(
        "SELECT currency, status, customers, repeat_customers, r, alpha, a, b, bgnbd_log_likelihood, "
        "p, q, gamma, gg_log_likelihood, penalizer FROM customer_models FINAL "
        "WHERE site_id = {site:String} AND as_of = {as_of:Date}",
        parameters={"site": site_id, "as_of": as_of},
    ).result_rows
    found = {}
    for currency, status, customers, repeat, r, alpha, a, b, bg_ll, p, q, gamma, gg_ll, penalizer in rows:
        found[str(currency)] = SiteModel(
            str(currency),
            str(status),
            int(customers),
            int(repeat),
            BgNbd(r, alpha, a, b) if r > 0 else None,
            GammaGamma(p, q, gamma) if p > 0 else None,
            float(bg_ll),
            float(gg_ll),
            float(penalizer),
        )
    return found


def model_row(site_id: str, model: SiteModel, as_of: date, version: int) -> list[Any]:
    bg = model.bgnbd or BgNbd(0.0, 0.0, 0.0, 0.0)
    gg = model.gamma_gamma or GammaGamma(0.0, 0.0, 0.0)
    return [
        site_id, model.currency, model.status, model.customers, model.repeat_customers,
        bg.r, bg.alpha, bg.a, bg.b, model.bgnbd_loglik, gg.p, gg.q, gg.gamma, model.gg_loglik,
        model.penalizer, as_of, version, 0,
    ]  # fmt: skip


MODEL_COLUMNS = [
    "site_id", "currency", "status", "customers", "repeat_customers", "r", "alpha", "a", "b",
    "bgnbd_log_likelihood", "p", "q", "gamma", "gg_log_likelihood", "penalizer", "as_of", "version",
    "is_deleted",
]  # fmt: skip
