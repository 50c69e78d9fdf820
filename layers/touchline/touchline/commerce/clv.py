"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"),
fitted by maximum likelihood without numpy or scipy.

Why no scipy: the Lambda layer would grow by ~100 MB and every cold start would pay its import
(docs/commerce.md has the measurements). The likelihoods split into a part that depends on a
customer's repeat count `x` only (gamma functions: evaluated here once per distinct `x`) and a
part made of logs and exps per customer, summed by a `Sample`, which may be a Python list
(tests, small data) or a ClickHouse table (one aggregate query per evaluation, where the data
lives). A small BFGS in log-parameter space does the rest; tests hold it against scipy.optimize,
lifetimes and the published CDNOW estimates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

# -- special functions --------------------------------------------------------------------------


def digamma(value: float) -> float:
    """ψ(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series (|error| < 1e-13)."""
    if value <= 0:
        raise ValueError("digamma needs a positive argument")
    shift = 0.0
    while value < 10.0:
        shift -= 1.0 / value
        value += 1.0
    inv2 = 1.0 / (value * value)
    series = inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132))))
    )
    return float(shift + math.log(value) - 0.5 / value - series)


def hyp2f1_euler(a: float, b: float, c: float, z: float, max_terms: int = 200_000) -> float:
    """The Gauss series Σ (a)_j (b)_j / ((c)_j j!) zʲ for 0 <= z < 1, summed until terms vanish."""
    log_value, sign = log_hyp2f1_series(a, b, c, z, max_terms)
    return sign * math.exp(log_value)


# A series whose largest term is this many times its sum has lost 7 of float's 16 digits.
_CANCELLATION = 1e7
_RESCALE = 1e200


def log_hyp2f1_series(
    a: float, b: float, c: float, z: float, max_terms: int = 200_000
) -> tuple[float, float]:
    """(ln |S|, sign S) of the Gauss series S = Σ (a)_j (b)_j / ((c)_j j!) zʲ, 0 <= z < 1.

    Kept as a scaled sum and a log scale, so a series whose terms grow past float's range before
    they fall (huge parameters: a fit on a few customers with no spread) is still summed exactly.
    Raises ArithmeticError when the sum cannot be trusted: no convergence within `max_terms`, or
    terms of alternating sign so much larger than their sum that cancellation ate the digits.
    """
    if not 0.0 <= z < 1.0:
        raise ValueError("z must be in [0, 1)")
    if c <= 0 and c == int(c):
        raise ArithmeticError("hypergeometric series undefined: c is a non-positive integer")
    total, term, scale, largest = 1.0, 1.0, 0.0, 1.0
    isfinite = math.isfinite  # the predictions sum ~10⁵ of these series: the loop is kept lean
    for j in range(max_terms):
        term *= (a + j) * (b + j) / ((c + j) * (j + 1)) * z
        total += term
        size = abs(term)
        if size > largest:
            largest = size
        if not isfinite(total):
            raise ArithmeticError("hypergeometric series overflowed")
        if size <= 1e-17 * abs(total):
            if total == 0.0 or largest > _CANCELLATION * abs(total):
                raise ArithmeticError("hypergeometric series lost its digits to cancellation")
            return math.log(abs(total)) + scale, math.copysign(1.0, total)
        if largest > _RESCALE:
            total, term, largest = total / _RESCALE, term / _RESCALE, largest / _RESCALE
            scale += math.log(_RESCALE)
    raise ArithmeticError("hypergeometric series did not converge")


# -- models -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbd:
    """Purchase rate λ ~ Gamma(r, α); after each purchase the customer drops out with p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def p_alive(self, x: int, t_x: float, big_t: float) -> float:
        """P(still active at T | x repeat purchases, the last at t_x)."""
        if x == 0:
            return 1.0
        log_d = math.log(self.a / (self.b + x - 1)) + (self.r + x) * (
            math.log(self.alpha + big_t) - math.log(self.alpha + t_x)
        )
        return 1.0 / (1.0 + math.exp(log_d)) if log_d < 700 else 0.0

    def alive_expected_purchases(self, x: int, big_t: float, t: float) -> float:
        """E[purchases in (T, T + t] | alive at T, x]: equation (10)'s numerator.

        Its term (1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) is summed first through Euler's
        transformation, (1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), which converges in tens of
        terms where the direct series needs thousands; when that form fails (r far above a + b:
        its terms alternate and cancel; a and b in the millions: they overflow), the direct
        series, whose terms are all positive, summed in log space. Raises ArithmeticError when
        neither can be trusted.
        """
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + big_t + t)
        log_1mz = math.log1p(-z)
        try:
            log_series, sign = log_hyp2f1_series(a + b - 1 - r, a - 1, a + b + x - 1, z, 20_000)
            log_term = (a - 1) * log_1mz + log_series
        except ArithmeticError:
            log_series, sign = log_hyp2f1_series(r + x, b + x, a + b + x - 1, z)
            log_term = (r + x) * log_1mz + log_series
        term = sign * math.exp(log_term) if log_term < 700 else math.inf
        return float((a + b + x - 1) / (a - 1) * (1.0 - term))

    def expected_purchases(self, x: int, t_x: float, big_t: float, t: float) -> float:
        """E[purchases in the next t | x, t_x, T] (equation 10)."""
        return self.alive_expected_purchases(x, big_t, t) * self.p_alive(x, t_x, big_t)


@dataclass(frozen=True)
class GammaGamma:
    """Spend per purchase ~ Gamma(p, ν) with ν ~ Gamma(q, γ) across customers."""

    p: float
    q: float
    gamma: float

    def expected_order_value(self, x: int, mean_value: float) -> float:
        """E[spend per purchase | x repeat purchases averaging `mean_value`] (x = 0: the population mean)."""
        return self.p * (self.gamma + x * mean_value) / (self.p * x + self.q - 1)


# -- samples ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdSums:
    """Per-customer sums of the BG/NBD log-likelihood's non-gamma part and its gradient."""

    loglik: float  # Σ r ln α - (r + x) ln(α + T) + ln(1 + D)
    d_r: float
    d_alpha: float
    s: float  # Σ D / (1 + D): the share of the second likelihood term (1 - P(alive))
    s_over_b: float  # Σ s / (b + x - 1)


@dataclass(frozen=True)
class GammaGammaSums:
    """Per-customer sums of the Gamma-Gamma log-likelihood that depend on γ."""

    log_total: float  # Σ ln(γ + x m)
    x_log_total: float  # Σ x ln(γ + x m)
    inv_total: float  # Σ 1 / (γ + x m)
    x_inv_total: float  # Σ x / (γ + x m)


class BgNbdSample(Protocol):
    def histogram(self) -> Mapping[int, int]:
        """Customers per repeat count x."""
        ...

    def sums(self, model: BgNbd) -> BgNbdSums: ...


class GammaGammaSample(Protocol):
    def histogram(self) -> Mapping[int, int]:
        """Customers (x > 0, positive mean spend) per repeat count x."""
        ...

    def fixed_sums(self) -> tuple[float, float]:
        """(Σ x ln m + Σ x ln x, Σ ln m): the parts that do not depend on γ."""
        ...

    def sums(self, gamma: float) -> GammaGammaSums: ...


class ListBgNbdSample:
    """A BG/NBD sample held in memory: (x, t_x, T) per customer."""

    def __init__(self, customers: Sequence[tuple[int, float, float]]) -> None:
        self.customers = list(customers)

    def histogram(self) -> Mapping[int, int]:
        counts: dict[int, int] = {}
        for x, _, _ in self.customers:
            counts[x] = counts.get(x, 0) + 1
        return counts

    def sums(self, model: BgNbd) -> BgNbdSums:
        r, alpha, a, b = model.r, model.alpha, model.a, model.b
        loglik = d_r = d_alpha = s_total = s_over_b = 0.0
        log_alpha = math.log(alpha)
        for x, t_x, big_t in self.customers:
            u = math.log(alpha + big_t)
            rx = r + x
            s = 0.0
            softplus = 0.0
            if x > 0:
                log_d = math.log(a) - math.log(b + x - 1) + rx * (u - math.log(alpha + t_x))
                softplus = log_d + math.log1p(math.exp(-log_d)) if log_d > 0 else math.log1p(math.exp(log_d))
                s = 1.0 / (1.0 + math.exp(-log_d)) if log_d > -700 else 0.0
                d_alpha += s * rx * (1.0 / (alpha + big_t) - 1.0 / (alpha + t_x))
                d_r += s * (u - math.log(alpha + t_x))
                s_over_b += s / (b + x - 1)
            loglik += r * log_alpha - rx * u + softplus
            d_r += log_alpha - u
            d_alpha += r / alpha - rx / (alpha + big_t)
            s_total += s
        return BgNbdSums(loglik, d_r, d_alpha, s_total, s_over_b)


class ListGammaGammaSample:
    """A Gamma-Gamma sample held in memory: (x, mean spend) per repeat customer (x > 0, m > 0)."""

    def __init__(self, customers: Sequence[tuple[int, float]]) -> None:
        self.customers = [(x, m) for x, m in customers if x > 0 and m > 0]

    def histogram(self) -> Mapping[int, int]:
        counts: dict[int, int] = {}
        for x, _ in self.customers:
            counts[x] = counts.get(x, 0) + 1
        return counts

    def fixed_sums(self) -> tuple[float, float]:
        return (
            sum(x * math.log(m) + x * math.log(x) for x, m in self.customers),
            sum(math.log(m) for _, m in self.customers),
        )

    def sums(self, gamma: float) -> GammaGammaSums:
        log_total = x_log_total = inv_total = x_inv_total = 0.0
        for x, m in self.customers:
            total = gamma + x * m
            log_total += math.log(total)
            x_log_total += x * math.log(total)
            inv_total += 1.0 / total
            x_inv_total += x / total
        return GammaGammaSums(log_total, x_log_total, inv_total, x_inv_total)


# -- likelihoods --------------------------------------------------------------------------------


def bgnbd_loglik(
    model: BgNbd, histogram: Mapping[int, int], sums: BgNbdSums
) -> tuple[float, tuple[float, float, float, float]]:
    """The total log-likelihood and its gradient in (r, α, a, b)."""
    r, a, b = model.r, model.a, model.b
    gamma_part = d_r = d_a = d_b = 0.0
    lg_r, lg_b, lg_ab = math.lgamma(r), math.lgamma(b), math.lgamma(a + b)
    psi_r, psi_b, psi_ab = digamma(r), digamma(b), digamma(a + b)
    for x, n in histogram.items():
        gamma_part += n * (
            math.lgamma(r + x) - lg_r + lg_ab + math.lgamma(b + x) - lg_b - math.lgamma(a + b + x)
        )
        psi_abx = digamma(a + b + x)
        d_r += n * (digamma(r + x) - psi_r)
        d_a += n * (psi_ab - psi_abx)
        d_b += n * (psi_ab + digamma(b + x) - psi_b - psi_abx)
    loglik = gamma_part + sums.loglik
    return loglik, (d_r + sums.d_r, sums.d_alpha, d_a + sums.s / a, d_b - sums.s_over_b)


def gamma_gamma_loglik(
    model: GammaGamma,
    histogram: Mapping[int, int],
    fixed: tuple[float, float],
    sums: GammaGammaSums,
) -> tuple[float, tuple[float, float, float]]:
    """The total log-likelihood and its gradient in (p, q, γ)."""
    p, q, gamma = model.p, model.q, model.gamma
    count = sum(histogram.values())
    x_terms, log_m = fixed
    gamma_part = d_p = d_q = 0.0
    for x, n in histogram.items():
        gamma_part += n * (math.lgamma(p * x + q) - math.lgamma(p * x))
        psi_sum = digamma(p * x + q)
        d_p += n * x * (psi_sum - digamma(p * x))
        d_q += n * psi_sum
    loglik = (
        gamma_part
        - count * math.lgamma(q)
        + count * q * math.log(gamma)
        + p * x_terms
        - log_m
        - p * sums.x_log_total
        - q * sums.log_total
    )
    d_p += x_terms - sums.x_log_total
    d_q += -count * digamma(q) + count * math.log(gamma) - sums.log_total
    d_gamma = count * q / gamma - p * sums.x_inv_total - q * sums.inv_total
    return loglik, (d_p, d_q, d_gamma)


# -- fitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    params: tuple[float, ...]
    loglik: float
    converged: bool
    iterations: int
    evaluations: int


LOG_BOUND = 30.0  # |log parameter| beyond this is a runaway fit, not an estimate


def minimize_bfgs(
    objective: Callable[[list[float]], tuple[float, list[float]]],
    start: Sequence[float],
    *,
    gtol: float = 1e-9,
    max_iterations: int = 500,
    max_evaluations: int = 400,
    stall_iterations: int = 25,
) -> tuple[list[float], float, bool, int, int]:
    """BFGS with a backtracking (Armijo) line search; returns (x, f, converged, iterations, evaluations).

    Points outside |xᵢ| <= LOG_BOUND or where the objective is not finite are rejected by the line
    search, so a fit that runs away stops there and reports not converged. So does one that creeps
    along a ridge (a likelihood still rising as parameters go to infinity: gains below 1e-10 for
    `stall_iterations` iterations) or runs out of evaluations: each costs a pass over the data.
    """
    size = len(start)
    x = list(start)
    value, grad = objective(x)
    evaluations = 1
    inverse = [[float(i == j) for j in range(size)] for i in range(size)]
    stalled = 0
    for iteration in range(max_iterations):
        if max(abs(g) for g in grad) < gtol:
            return x, value, True, iteration, evaluations
        if stalled >= stall_iterations or evaluations >= max_evaluations:
            return x, value, False, iteration, evaluations
        direction = [-sum(inverse[i][j] * grad[j] for j in range(size)) for i in range(size)]
        slope = sum(d * g for d, g in zip(direction, grad, strict=True))
        if slope >= 0:  # not a descent direction: restart from steepest descent
            inverse = [[float(i == j) for j in range(size)] for i in range(size)]
            direction = [-g for g in grad]
            slope = -sum(g * g for g in grad)
        step = 1.0
        while True:
            candidate = [xi + step * di for xi, di in zip(x, direction, strict=True)]
            if all(abs(c) <= LOG_BOUND for c in candidate):
                new_value, new_grad = objective(candidate)
                evaluations += 1
                if math.isfinite(new_value) and new_value <= value + 1e-4 * step * slope:
                    break
            step *= 0.5
            if step < 1e-14:
                return x, value, False, iteration, evaluations
        s = [c - xi for c, xi in zip(candidate, x, strict=True)]
        y = [ng - g for ng, g in zip(new_grad, grad, strict=True)]
        sy = sum(si * yi for si, yi in zip(s, y, strict=True))
        if sy > 1e-16:
            hy = [sum(inverse[i][j] * y[j] for j in range(size)) for i in range(size)]
            yhy = sum(yi * hyi for yi, hyi in zip(y, hy, strict=True))
            for i in range(size):
                for j in range(size):
                    inverse[i][j] += ((sy + yhy) * s[i] * s[j]) / (sy * sy) - (
                        hy[i] * s[j] + s[i] * hy[j]
                    ) / sy
        previous = value
        x, value, grad = candidate, new_value, new_grad
        stalled = stalled + 1 if previous - value < 1e-10 * max(1.0, abs(value)) else 0
        if abs(previous - value) <= 1e-15 * max(1.0, abs(value)) and max(abs(g) for g in grad) < gtol * 1e3:
            return x, value, True, iteration + 1, evaluations
    return x, value, False, max_iterations, evaluations


def fit_bgnbd(sample: BgNbdSample, *, time_scale: float = 1.0, penalizer: float = 0.0) -> Fit:
    """Maximum likelihood (r, α, a, b); α is searched as time_scale · e^θ (conditioning only).

    The objective is lifetimes': mean negative log-likelihood + penalizer · Σ params².
    """
    histogram = sample.histogram()
    count = sum(histogram.values())
    if count == 0:
        raise ValueError("no customers to fit")

    def unpack(theta: Sequence[float]) -> BgNbd:
        return BgNbd(
            math.exp(theta[0]), time_scale * math.exp(theta[1]), math.exp(theta[2]), math.exp(theta[3])
        )

    def objective(theta: list[float]) -> tuple[float, list[float]]:
        model = unpack(theta)
        try:
            loglik, grad = bgnbd_loglik(model, histogram, sample.sums(model))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.inf, [0.0] * 4
        params = (model.r, model.alpha, model.a, model.b)
        value = -loglik / count + penalizer * sum(v * v for v in params)
        return value, [(-g / count + 2 * penalizer * v) * v for g, v in zip(grad, params, strict=True)]

    theta, value, converged, iterations, evaluations = minimize_bfgs(objective, [0.0, 0.0, 0.0, 0.0])
    model = unpack(theta)
    return Fit(
        (model.r, model.alpha, model.a, model.b),
        -(value - penalizer * sum(v * v for v in (model.r, model.alpha, model.a, model.b))) * count,
        converged,
        iterations,
        evaluations,
    )


def fit_gamma_gamma(sample: GammaGammaSample, *, value_scale: float = 1.0, penalizer: float = 0.0) -> Fit:
    """Maximum likelihood (p, q, γ); γ is searched as value_scale · e^θ (conditioning only)."""
    histogram = sample.histogram()
    count = sum(histogram.values())
    if count == 0:
        raise ValueError("no repeat customers to fit")
    fixed = sample.fixed_sums()

    def unpack(theta: Sequence[float]) -> GammaGamma:
        return GammaGamma(math.exp(theta[0]), math.exp(theta[1]), value_scale * math.exp(theta[2]))

    def objective(theta: list[float]) -> tuple[float, list[float]]:
        model = unpack(theta)
        try:
            loglik, grad = gamma_gamma_loglik(model, histogram, fixed, sample.sums(model.gamma))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.inf, [0.0] * 3
        params = (model.p, model.q, model.gamma)
        value = -loglik / count + penalizer * sum(v * v for v in params)
        return value, [(-g / count + 2 * penalizer * v) * v for g, v in zip(grad, params, strict=True)]

    theta, value, converged, iterations, evaluations = minimize_bfgs(objective, [0.0, 0.0, 0.0])
    model = unpack(theta)
    return Fit(
        (model.p, model.q, model.gamma),
        -(value - penalizer * sum(v * v for v in (model.p, model.q, model.gamma))) * count,
        converged,
        iterations,
        evaluations,
    )
