"""Tests of workbook.clv.bgnbd against published CDNOW numbers, integrals and simulations."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import beta as beta_fn
from scipy.special import gammaln

import workbook.clv.bgnbd as bgnbd_module
from workbook.clv import BetaGeoModel, bgnbd_log_likelihood, calibration_vs_holdout, load_cdnow_summary
from workbook.clv.cdnow import PUBLISHED_BGNBD_LOG_LIKELIHOOD, PUBLISHED_BGNBD_PARAMS
from workbook.errors import ConvergenceError, WorkbookInputError

PUBLISHED = pd.Series(PUBLISHED_BGNBD_PARAMS)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow) -> BetaGeoModel:
    return BetaGeoModel(time_unit="W").fit(cdnow)


def published_model() -> BetaGeoModel:
    model = BetaGeoModel(time_unit="W")
    model.params_ = PUBLISHED.copy()
    return model


def simulate_bgnbd(n, r, alpha, a, b, T_low, T_high, seed):
    """Pure BG/NBD population, simulated directly (independent of the package).

    Repeat purchases arrive as Poisson(lambda) and the member drops out right after each
    repeat purchase with probability p, i.e. after a Geometric(p) number N of them.  With K
    Poisson arrivals in [0, T], x = min(K, N) and, given K, the x-th arrival time is T times
    the x-th order statistic of K uniforms, i.e. T * Beta(x, K - x + 1).
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(T_low, T_high, n)
    K = rng.poisson(lam * T)
    N = rng.geometric(p)
    x = np.minimum(K, N)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), K - x + 1), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


# ---------------------------------------------------------------- published CDNOW results
def test_cdnow_fit_matches_published_estimates_within_1_percent(fitted):
    rel = (fitted.params_[PUBLISHED.index] / PUBLISHED - 1).abs()
    assert (rel < 0.01).all(), rel
    # Also at the precision the paper reports (3 decimals).
    np.testing.assert_allclose(fitted.params_[PUBLISHED.index], PUBLISHED, atol=1e-3)


def test_cdnow_log_likelihood_matches_published(fitted):
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_BGNBD_LOG_LIKELIHOOD, abs=0.05)
    assert fitted.n_members_ == 2357


def test_log_likelihood_function_sums_to_fit(fitted, cdnow):
    total = bgnbd_log_likelihood(
        fitted.params_.to_numpy(), cdnow["frequency"], cdnow["recency"], cdnow["T"]
    ).sum()
    assert total == pytest.approx(fitted.log_likelihood_, rel=1e-12)


def test_standard_errors_are_positive_and_summary_has_intervals(fitted):
    table = fitted.summary()
    assert list(table.columns) == ["estimate", "standard_error", "ci_lower", "ci_upper"]
    assert (table["standard_error"] > 0).all()
    assert (table["ci_lower"] < table["estimate"]).all()
    assert (table["estimate"] < table["ci_upper"]).all()


def test_conditional_expectation_matches_hardie_spreadsheet(fitted):
    # FHL (2005) / Hardie's BG/NBD spreadsheet: customer with x=2, t_x=30.43, T=38.86 is
    # expected to make 1.226 purchases in the next 39 weeks.
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert fitted.expected_purchases(39, one).iloc[0] == pytest.approx(1.226, abs=1e-3)
    assert published_model().expected_purchases(39, one).iloc[0] == pytest.approx(1.226, abs=1e-3)


def test_population_expectation_matches_hardie_spreadsheet(fitted):
    # Cumulative repeat purchases per customer from Hardie's BG/NBD spreadsheet.
    times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    got = fitted.expected_purchases_population(times)
    np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-3)
    assert list(got.index) == times


# ------------------------------------------------ closed forms vs numerical integration
def _posterior_by_quadrature(params, x, t_x, T, t):
    """P(alive) and E[Y(t)] by integrating the individual-level model over lambda and p.

    Individual likelihood: alive branch (1-p)^x lam^x e^{-lam T}, dropped branch
    p (1-p)^(x-1) lam^x e^{-lam t_x}; an alive member buys (1 - e^{-lam p t}) / p in the
    next t.  The lambda integrals are elementary gamma integrals; the p integrals are done
    numerically with scipy.integrate.quad (no hypergeometric function involved).
    """
    r, alpha, a, b = params

    def lam_moment(s):  # E[lam^x e^{-lam s}] under Gamma(r, alpha)
        return np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + s))

    def p_mean(f):  # E[f(p)] under Beta(a, b), singular end points handled by weight="alg"
        return quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), limit=200)[0] / beta_fn(a, b)

    alive = lam_moment(T) * p_mean(lambda p: (1 - p) ** x)
    dropped = lam_moment(t_x) * p_mean(lambda p: p * (1 - p) ** (x - 1)) if x > 0 else 0.0

    def bought_if_alive(p):  # E[lam^x e^{-lam T} (1 - e^{-lam p t})] / p, finite as p -> 0
        if p == 0.0:
            return lam_moment(T) * (r + x) * t / (alpha + T)
        return lam_moment(T) * -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p

    future = p_mean(lambda p: (1 - p) ** x * bought_if_alive(p))
    return alive / (alive + dropped), future / (alive + dropped)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"),
    [(2, 30.43, 38.86, 39.0), (0, 0.0, 38.86, 39.0), (5, 10.0, 38.0, 20.0), (26, 30.86, 31.0, 52.0),
     (1, 0.5, 2.0, 5.0)],
)
def test_probability_alive_and_expectation_match_quadrature(x, t_x, T, t):
    model = published_model()
    row = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]}, index=["m1"])
    p_alive, expected = _posterior_by_quadrature(PUBLISHED.to_numpy(), x, t_x, T, t)
    assert model.probability_alive(row).loc["m1"] == pytest.approx(p_alive, rel=1e-6)
    assert model.expected_purchases(t, row).loc["m1"] == pytest.approx(expected, rel=1e-5)


def test_probability_alive_is_one_without_repeat_purchases(cdnow):
    p = published_model().probability_alive(cdnow)
    assert (p[cdnow["frequency"] == 0] == 1.0).all()
    assert p.name == "probability_alive"
    assert p.index.equals(cdnow.index)


# ------------------------------------------------------------- simulation recovery
def test_recovers_true_parameters_of_simulated_population():
    # 20,000 members observed 26 to 78 weeks; standard errors are about 1.5% (r), 2% (alpha),
    # 4% (a) and 5.5% (b) of the true values, so 5% for r, alpha and 15% for a, b is ~3 SE.
    true = pd.Series({"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5})
    data = simulate_bgnbd(20_000, *true, T_low=26, T_high=78, seed=7)
    model = BetaGeoModel().fit(data)
    rel = (model.params_ / true - 1).abs()
    assert (rel[["r", "alpha"]] < 0.05).all(), rel
    assert (rel[["a", "b"]] < 0.15).all(), rel
    # The reported standard errors are honest: the truth lies within 3.5 SE.
    z = ((model.params_ - true) / model.standard_errors_).abs()
    assert (z < 3.5).all(), z


def simulate_paths(n, r, alpha, a, b, T_cal, T_total, seed):
    """Calibration summary and holdout purchase counts from simulated purchase paths."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    K = rng.poisson(lam * T_total)  # arrivals in [0, T_total] if nobody dropped out
    N = rng.geometric(p)  # the member drops out right after the N-th repeat purchase
    member = np.repeat(np.arange(n), K)
    times = rng.uniform(0, T_total, K.sum())
    order = np.lexsort((times, member))
    member, times = member[order], times[order]
    rank = np.arange(len(member)) - np.repeat(np.cumsum(K) - K, K) + 1
    kept = rank <= N[member]
    cal = kept & (times < T_cal)
    x = np.bincount(member[cal], minlength=n)
    t_x = np.zeros(n)
    np.maximum.at(t_x, member[cal], times[cal])
    holdout = np.bincount(member[kept & (times >= T_cal)], minlength=n)
    summary = pd.DataFrame({"frequency": x, "recency": t_x, "T": np.full(n, float(T_cal))})
    return summary, holdout


def test_conditional_expectation_predicts_simulated_holdout_purchases():
    # Out-of-sample check with the true parameters: E[Y(20) | x, t_x, T=20] averaged over
    # members with the same calibration frequency equals their mean holdout purchases.
    true = {"r": 0.6, "alpha": 4.0, "a": 0.7, "b": 2.0}
    summary, holdout = simulate_paths(20_000, *true.values(), T_cal=20.0, T_total=40.0, seed=11)
    model = BetaGeoModel()
    model.params_ = pd.Series(true)
    predicted = model.expected_purchases(20.0, summary).to_numpy()
    groups = np.minimum(summary["frequency"].to_numpy(), 3)
    for g in range(4):
        mask = groups == g
        se = holdout[mask].std() / np.sqrt(mask.sum())
        assert abs(predicted[mask].mean() - holdout[mask].mean()) < 4 * se, g
    # ... and the population expectation matches the calibration purchases.
    e_x = model.expected_purchases_population(20.0).iloc[0]
    se = summary["frequency"].std() / np.sqrt(len(summary))
    assert abs(e_x - summary["frequency"].mean()) < 4 * se


# ---------------------------------------------------------- properties (hypothesis)
@settings(max_examples=40, deadline=None)
@given(
    x=st.integers(1, 60),
    frac=st.floats(0.0, 1.0),
    T=st.floats(1.0, 200.0),
    extra=st.floats(0.1, 50.0),
)
def test_probability_alive_decreases_with_time_since_last_purchase(x, frac, T, extra):
    model = published_model()
    rows = pd.DataFrame({"frequency": [x, x], "recency": [frac * T, frac * T], "T": [T, T + extra]})
    p = model.probability_alive(rows).to_numpy()
    assert 0.0 < p[1] <= p[0] <= 1.0


@settings(max_examples=40, deadline=None)
@given(x=st.integers(0, 40), frac=st.floats(0.0, 1.0), T=st.floats(1.0, 100.0),
       t1=st.floats(0.0, 100.0), dt=st.floats(0.0, 100.0))
def test_expected_purchases_nonnegative_and_increasing_in_horizon(x, frac, T, t1, dt):
    model = published_model()
    row = pd.DataFrame({"frequency": [x], "recency": [frac * T if x > 0 else 0.0], "T": [T]})
    e1 = model.expected_purchases(t1, row).iloc[0]
    e2 = model.expected_purchases(t1 + dt, row).iloc[0]
    assert np.isfinite(e1) and np.isfinite(e2)
    assert -1e-9 <= e1 <= e2 + 1e-9


# ----------------------------------------------------------------- grid and errors
def test_frequency_recency_grid_shape_and_impossible_cells():
    model = published_model()
    grid = model.frequency_recency_grid(T=39.0, max_frequency=10, n_recency=5, quantity="probability_alive")
    assert grid.shape == (11, 5)
    assert grid.iloc[0, 1:].isna().all() and grid.iloc[0, 0] == 1.0
    # Each cell equals probability_alive of the corresponding member.
    row = pd.DataFrame({"frequency": [4], "recency": [grid.columns[2]], "T": [39.0]})
    assert grid.loc[4].iloc[2] == pytest.approx(model.probability_alive(row).iloc[0])
    exp_grid = model.frequency_recency_grid(T=39.0, t=10.0, max_frequency=3, n_recency=3)
    assert exp_grid.loc[3].iloc[-1] == pytest.approx(
        model.expected_purchases(10.0, pd.DataFrame({"frequency": [3], "recency": [39.0], "T": [39.0]})).iloc[0]
    )
    with pytest.raises(WorkbookInputError, match="quantity"):
        model.frequency_recency_grid(T=39.0, quantity="clv")


def test_fit_does_not_modify_input(cdnow):
    before = cdnow.copy()
    BetaGeoModel().fit(cdnow.head(500))
    pd.testing.assert_frame_equal(cdnow, before)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"frequency": [1, 2], "recency": [5.0, 3.0]}), r"missing column\(s\) \['T'\]"),
        (pd.DataFrame({"frequency": [1, -2], "recency": [5.0, 3.0], "T": [9.0, 9.0]}), "'frequency'.*negative.*row 1"),
        (pd.DataFrame({"frequency": [1, 2], "recency": [5.0, 13.0], "T": [9.0, 9.0]}), "'recency'.*exceeds 'T'.*row 1"),
        (pd.DataFrame({"frequency": [0, 2], "recency": [5.0, 3.0], "T": [9.0, 9.0]}), "frequency' 0.*row 0"),
        (pd.DataFrame({"frequency": [1.5, 2], "recency": [5.0, 3.0], "T": [9.0, 9.0]}), "whole numbers.*row 0"),
        (pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [9.0, 9.0]}), "0 for every member"),
        (pd.DataFrame({"frequency": [1, 2], "recency": [5.0, np.nan], "T": [9.0, 9.0]}), "'recency'.*missing.*row 1"),
    ],
)
def test_fit_rejects_bad_summaries(frame, match):
    with pytest.raises(WorkbookInputError, match=match):
        BetaGeoModel().fit(frame)


def test_bad_time_unit_and_mismatched_summary(cdnow):
    with pytest.raises(WorkbookInputError, match="time_unit='M'"):
        BetaGeoModel(time_unit="M").fit(cdnow)
    with pytest.raises(WorkbookInputError, match="time unit 'W'.*model uses 'D'"):
        BetaGeoModel(time_unit="D").fit(cdnow)


def test_unfitted_model_raises_with_hint(cdnow):
    with pytest.raises(WorkbookInputError, match="not fitted"):
        BetaGeoModel().probability_alive(cdnow)
    with pytest.raises(WorkbookInputError, match="negative"):
        published_model().expected_purchases_population(-1.0)


def test_convergence_error_when_nobody_drops_out():
    # Pure Poisson buyers without dropout: a/(a+b) -> 0, so a and b run off to infinity.
    rng = np.random.default_rng(1)
    n = 1000
    lam = rng.gamma(2.0, 1 / 10.0, n)
    T = np.full(n, 100.0)
    K = rng.poisson(lam * T)
    t_x = np.where(K > 0, T * rng.beta(np.maximum(K, 1), 1), 0.0)
    data = pd.DataFrame({"frequency": K, "recency": t_x, "T": T})
    with pytest.raises(ConvergenceError, match="boundary|converge"):
        BetaGeoModel().fit(data)


def test_docstring_examples_run():
    assert doctest.testmod(bgnbd_module, raise_on_error=False).failed == 0


def test_calibration_vs_holdout_table():
    model = published_model()
    split = pd.DataFrame(
        {
            "frequency": [0, 0, 1, 3, 9],
            "recency": [0.0, 0.0, 5.0, 20.0, 30.0],
            "T": [30.0, 20.0, 30.0, 30.0, 31.0],
            "frequency_holdout": [0, 1, 2, 1, 5],
            "duration_holdout": [10.0] * 5,
        }
    )
    table = calibration_vs_holdout(model, split, max_frequency=3)
    assert table["n_members"].tolist() == [2, 1, 0, 2]
    assert table["actual_holdout"].iloc[[0, 1, 3]].tolist() == [0.5, 2.0, 3.0]
    assert np.isnan(table.loc[2, "actual_holdout"])
    expected = model.expected_purchases(10.0, split)
    assert table.loc[3, "predicted_holdout"] == pytest.approx(expected.iloc[3:].mean())
    assert table.loc[0, "predicted_holdout"] == pytest.approx(expected.iloc[:2].mean())
    with pytest.raises(WorkbookInputError, match=r"missing column\(s\) \['duration_holdout'\]"):
        calibration_vs_holdout(model, split.drop(columns="duration_holdout"))


def test_analytic_gradient_matches_finite_differences(cdnow):
    from scipy.optimize import approx_fprime

    x, t_x, T = (cdnow[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    f = bgnbd_module._negative_log_likelihood_and_gradient
    for log_params in (np.log([0.3, 3.0, 0.6, 2.0]), np.log([2.0, 10.0, 1.5, 0.5])):
        value, grad = f(log_params, x, t_x, T)
        assert value == pytest.approx(-bgnbd_log_likelihood(np.exp(log_params), x, t_x, T).mean())
        numeric = approx_fprime(log_params, lambda p: f(p, x, t_x, T)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)
