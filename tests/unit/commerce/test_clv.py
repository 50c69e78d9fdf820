"""BG/NBD and Gamma-Gamma (touchline.commerce.clv) against the published CDNOW estimates, the
lifetimes package's fitters and predictions, and scipy's special functions and optimiser."""

from __future__ import annotations

import math
import random

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value
from scipy.optimize import minimize
from scipy.special import digamma as scipy_digamma
from scipy.special import hyp2f1

from touchline.commerce.clv import (
    BgNbd,
    GammaGamma,
    ListBgNbdSample,
    ListGammaGammaSample,
    bgnbd_loglik,
    digamma,
    fit_bgnbd,
    fit_gamma_gamma,
    hyp2f1_euler,
)


@pytest.fixture(scope="module")
def cdnow() -> object:
    return load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="module")
def cdnow_sample(cdnow: object) -> ListBgNbdSample:
    frame = cdnow
    return ListBgNbdSample(
        list(zip(frame["frequency"].astype(int), frame["recency"], frame["T"], strict=True))  # type: ignore[index]
    )


def test_cdnow_fit_reproduces_the_published_parameters(cdnow: object, cdnow_sample: ListBgNbdSample) -> None:
    # Fader, Hardie & Lee (2005), CDNOW 1/10th sample, 39-week calibration: r, alpha, a, b.
    fit = fit_bgnbd(cdnow_sample, time_scale=float(cdnow["T"].max()) / 10)  # type: ignore[index]
    assert fit.converged
    assert [round(v, 3) for v in fit.params] == [0.243, 4.414, 0.793, 2.426]
    assert fit.loglik == pytest.approx(-9582.4, abs=0.1)  # the paper's LL


def test_cdnow_fit_equals_lifetimes(cdnow: object, cdnow_sample: ListBgNbdSample) -> None:
    frame = cdnow
    reference = BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])  # type: ignore[index]
    fit = fit_bgnbd(cdnow_sample, time_scale=float(frame["T"].max()) / 10)  # type: ignore[index]
    assert fit.params == pytest.approx(list(reference.params_.values), rel=1e-5)


def test_predictions_equal_lifetimes_for_every_cdnow_customer(cdnow: object) -> None:
    frame = cdnow
    reference = BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])  # type: ignore[index]
    model = BgNbd(*reference.params_.values)
    x, t_x, big_t = frame["frequency"], frame["recency"], frame["T"]  # type: ignore[index]
    alive = reference.conditional_probability_alive(x, t_x, big_t)
    for horizon in (1.0, 39.0, 52.0):
        expected = reference.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, big_t)
        ours = [
            model.expected_purchases(int(a), b, c, horizon) for a, b, c in zip(x, t_x, big_t, strict=True)
        ]
        assert np.allclose(ours, expected, rtol=1e-9, atol=0)
    ours_alive = [model.p_alive(int(a), b, c) for a, b, c in zip(x, t_x, big_t, strict=True)]
    assert np.allclose(ours_alive, alive, rtol=1e-9, atol=1e-12)


def test_gamma_gamma_equals_lifetimes_on_cdnow() -> None:
    frame = load_cdnow_summary_data_with_monetary_value()
    repeat = frame[frame["frequency"] > 0]
    reference = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    sample = ListGammaGammaSample(
        list(zip(repeat["frequency"].astype(int), repeat["monetary_value"], strict=True))
    )
    fit = fit_gamma_gamma(sample, value_scale=float(repeat["monetary_value"].mean()))
    assert fit.converged
    assert fit.params == pytest.approx(list(reference.params_.values), rel=1e-5)
    # Fader & Hardie's note on the Gamma-Gamma model: p = 6.25, q = 3.74, γ = 15.44.
    assert [round(v, 2) for v in fit.params] == [6.25, 3.74, 15.45]
    model = GammaGamma(*reference.params_.values)
    expected = reference.conditional_expected_average_profit(frame["frequency"], frame["monetary_value"])
    ours = [
        model.expected_order_value(int(x), m)
        for x, m in zip(frame["frequency"], frame["monetary_value"], strict=True)
    ]
    assert np.allclose(ours, expected, rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 500.0))
def test_digamma_equals_scipy(value: float) -> None:
    assert digamma(value) == pytest.approx(float(scipy_digamma(value)), rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.01, 5.0), st.floats(0.01, 5.0), st.floats(0.01, 5.0), st.floats(0.01, 20.0),
    st.integers(0, 60), st.floats(0.0, 0.97),
)  # fmt: skip
@example(r=1.0, alpha=1.0, a=0.5, b=0.5, x=0, z=0.5)  # c = 0: hypothesis found a ZeroDivisionError
def test_expected_purchase_series_equals_scipy_hyp2f1(
    r: float, alpha: float, a: float, b: float, x: int, z: float
) -> None:
    """The Euler-transformed series times (1 - z)^(a - 1) is the formula's 2F1 term."""
    if abs(a - 1) < 1e-3:
        return
    c = a + b + x - 1
    if c <= 0 and c == int(c):  # a pole of 2F1: undefined, and the series says so
        with pytest.raises(ArithmeticError):
            hyp2f1_euler(a + b - 1 - r, a - 1, c, z)
        return
    direct = (1 - z) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    ours = (1 - z) ** (a - 1) * hyp2f1_euler(a + b - 1 - r, a - 1, a + b + x - 1, z)
    assert ours == pytest.approx(float(direct), rel=1e-9)
    del alpha


def mp_alive_expected_purchases(model: BgNbd, x: int, big_t: float, t: float) -> float:
    """Equation (10)'s numerator as the paper writes it, summed in 60-digit arithmetic."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    with mpmath.workdps(60):
        z = mpmath.mpf(t) / (alpha + big_t + t)
        series = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z, maxterms=10**7)
        return float((a + b + x - 1) / mpmath.mpf(a - 1) * (1 - (1 - z) ** (r + x) * series))


@pytest.mark.parametrize(
    ("model", "x", "big_t"),
    [
        # Fits on a handful of customers (the commerce oracle's shops) that show no spread in
        # purchase rate: r in the millions. scipy's hyp2f1 answers nan or inf for these; the
        # Euler form converges and must stay exact.
        (BgNbd(8418230.0, 1161720000.0, 531865.0, 1.88017e-06), 0, 111.0),
        (BgNbd(17911000.0, 1425720000.0, 7.49821e-05, 459.319), 3, 114.0),
        # a and b in the millions (no spread in drop-out): the Euler series overflows (it gave
        # nan, demoting the fit); the direct series, summed in log space, does not.
        (BgNbd(1.25672, 79.8361, 3552190.0, 8163810.0), 0, 90.0),
        # r far above a + b: the Euler series alternates and cancels to a wrong number.
        (BgNbd(979.8838374556108, 6.577100074852951, 1.7657856001614722, 0.02670038735393003), 2, 62.0),
    ],
)
def test_expected_purchases_of_extreme_fits_equal_the_formula_in_high_precision(
    model: BgNbd, x: int, big_t: float
) -> None:
    for horizon in (90.0, 365.0):
        want = mp_alive_expected_purchases(model, x, big_t, horizon)
        assert model.alive_expected_purchases(x, big_t, horizon) == pytest.approx(want, rel=1e-9)


def simulate(
    seed: int, customers: int, r: float, alpha: float, a: float, b: float
) -> list[tuple[int, float, float]]:
    """Customers drawn from the BG/NBD process itself: (x, t_x, T) in days."""
    rng = random.Random(seed)
    rows = []
    for _ in range(customers):
        rate, drop = rng.gammavariate(r, 1 / alpha), rng.betavariate(a, b)
        big_t = float(rng.randrange(30, 700))
        at, x, last = 0.0, 0, 0.0
        while True:
            at += rng.expovariate(rate)
            if at > big_t:
                break
            x, last = x + 1, at
            if rng.random() < drop:
                break
        rows.append((x, last, big_t))
    return rows


@settings(max_examples=6, deadline=None)
@given(
    st.integers(0, 2**32), st.floats(0.3, 3.0), st.floats(5.0, 60.0), st.floats(0.3, 2.0), st.floats(1.0, 8.0)
)
# A sample with no optimum: its likelihood keeps rising as a and b grow together (a CI draw).
@example(seed=8285527, r=0.5, alpha=45.25, a=1.0, b=6.0)
def test_the_own_optimiser_equals_scipy_bfgs(seed: int, r: float, alpha: float, a: float, b: float) -> None:
    """On samples simulated from the model, our BFGS lands where scipy's does (same objective)."""
    sample = ListBgNbdSample(simulate(seed, 250, r, alpha, a, b))
    scale = max(c[2] for c in sample.customers) / 10
    histogram, count = sample.histogram(), len(sample.customers)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = (math.exp(theta[0]), scale * math.exp(theta[1]), math.exp(theta[2]), math.exp(theta[3]))
        value, grad = bgnbd_loglik(BgNbd(*params), histogram, sample.sums(BgNbd(*params)))
        return -value / count, -np.array(grad) * np.array(params) / count

    reference = minimize(objective, np.zeros(4), jac=True, method="BFGS", options={"gtol": 1e-10})
    ours = fit_bgnbd(sample, time_scale=scale)
    if not ours.converged:
        # Only on a ridge, which scipy's BFGS climbs too without reaching an optimum.
        assert not reference.success or max(abs(v) for v in reference.x) >= 8
    assert -ours.loglik / count <= reference.fun + 1e-9
    if reference.success and max(abs(v) for v in reference.x) < 8:
        expected = [math.exp(reference.x[0]), scale * math.exp(reference.x[1]), *np.exp(reference.x[2:])]
        assert ours.params == pytest.approx(expected, rel=1e-4)
