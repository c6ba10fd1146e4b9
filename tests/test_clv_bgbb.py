"""Tests of workbook.clv.bgbb against Fader, Hardie & Shang (2010), lifetimes, direct sums and simulation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln
from statsmodels.tools.numdiff import approx_fprime

from workbook.clv import BetaGeoBetaBinomModel, bgbb_log_likelihood, bgbb_summary, simulate_opportunities
from workbook.clv.bgbb import _negative_log_likelihood_and_gradient
from workbook.errors import NotFittedError, WorkbookInputError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes touches a pandas option deprecated in pandas 3
    lifetimes = pytest.importorskip("lifetimes")
    from lifetimes.datasets import load_donations

# Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time noncontractual
# setting", Marketing Science 29(6): 11,104 first-time donors of 1995, 6 yearly drives.
PUBLISHED = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
PUBLISHED_LOG_LIKELIHOOD = -33225.6


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return load_donations()


@pytest.fixture(scope="module")
def fitted(donations) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel().fit(donations, n_periods_col="periods", weights_col="weights")


@pytest.fixture(scope="module")
def reference(donations):
    return lifetimes.BetaGeoBetaBinomFitter().fit(
        donations["frequency"], donations["recency"], donations["periods"], weights=donations["weights"])


def published_model() -> BetaGeoBetaBinomModel:
    model = BetaGeoBetaBinomModel()
    model.params_ = PUBLISHED.rename("estimate")
    return model


# ------------------------------------------------------------ published and library
def test_donations_fit_matches_published_estimates(fitted):
    np.testing.assert_allclose(fitted.params_[PUBLISHED.index], PUBLISHED, atol=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert fitted.n_members_ == 11104


def test_standard_errors_match_lifetimes(fitted, reference):
    # lifetimes takes the exact (autograd) Hessian; ours is a difference of the analytic gradient.
    np.testing.assert_allclose(fitted.standard_errors_, reference.standard_errors_[PUBLISHED.index], rtol=1e-3)
    table = fitted.summary()
    assert (table["ci_lower"] > 0).all() and (table["ci_lower"] < table["estimate"]).all()


def test_predictions_match_lifetimes(fitted, reference, donations):
    x, t_x, n = (donations[c].to_numpy() for c in ("frequency", "recency", "periods"))
    summary = pd.DataFrame({"frequency": x, "recency": t_x, "n_periods": n})
    np.testing.assert_allclose(
        fitted.expected_purchases(5, summary),
        reference.conditional_expected_number_of_purchases_up_to_time(5, x, t_x, n), rtol=1e-4)
    np.testing.assert_allclose(
        fitted.probability_alive(summary), reference.conditional_probability_alive(1, x, t_x, n), rtol=1e-4)
    expected = reference.expected_number_of_transactions_in_first_n_periods(6)["model"] / 11104
    np.testing.assert_allclose(fitted.frequency_distribution(6), expected, rtol=1e-4)
    ll = bgbb_log_likelihood(fitted.params_, x, t_x, n)
    assert donations["weights"].to_numpy() @ ll == pytest.approx(fitted.log_likelihood_, rel=1e-10)


def test_model_histogram_is_close_to_the_observed_one(fitted, donations):
    # Figure 3 of the paper: the model reproduces the distribution of donations 1996-2001.
    observed = donations.groupby("frequency")["weights"].sum() / donations["weights"].sum()
    assert (fitted.frequency_distribution(6) - observed).abs().max() < 0.01


# ---------------------------------------------------------------- closed forms
def test_gradient_matches_finite_differences(donations):
    x, t_x, n, w = (donations[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "periods", "weights"))
    theta = np.log([1.5, 0.6, 0.9, 2.0])
    value, grad = _negative_log_likelihood_and_gradient(theta, x, t_x, n, w)
    numeric = approx_fprime(theta, lambda p: _negative_log_likelihood_and_gradient(p, x, t_x, n, w)[0], 1e-7,
                            centered=True)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("gamma", [0.657, 1.0, 1.0 + 1e-11, 2.5])
def test_expectations_equal_direct_sums(gamma):
    # E[X(n)] = E[p] sum_t E[(1-theta)^t]; conditional: posterior weights times the same sum.
    alpha, beta, delta = 1.2, 0.75, 2.8
    model = BetaGeoBetaBinomModel()
    model.params_ = pd.Series({"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta})
    survival = np.exp(betaln(gamma, delta + np.arange(1, 40)) - betaln(gamma, delta))
    direct = alpha / (alpha + beta) * np.cumsum(survival)
    np.testing.assert_allclose(model.expected_purchases_population(np.arange(1, 40)), direct, rtol=1e-9)
    x, t_x, n, k = 3.0, 4.0, 6.0, 10
    ll = bgbb_log_likelihood(model.params_, [x], [t_x], [n])[0]
    posterior = np.exp(betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta) - ll)
    direct_cond = posterior * survival[int(n):int(n) + k].sum()
    got = model.conditional_expected_purchases(np.float64(k), x, t_x, n)
    assert got == pytest.approx(direct_cond, rel=1e-9)


def test_weights_equal_repeated_rows(donations):
    small = donations.assign(weights=lambda d: (d["weights"] // 20).clip(lower=1))
    by_pattern = BetaGeoBetaBinomModel().fit(small, n_periods_col="periods", weights_col="weights")
    members = small.loc[small.index.repeat(small["weights"])].drop(columns="weights")
    by_member = BetaGeoBetaBinomModel().fit(members, n_periods_col="periods")
    np.testing.assert_allclose(by_pattern.params_, by_member.params_, rtol=1e-6)
    assert by_pattern.n_members_ == by_member.n_members_ == int(small["weights"].sum())


# -------------------------------------------------------------- 0/1 table input
def test_summary_of_a_table():
    table = pd.DataFrame([[1, 0, 1, 0], [np.nan, 0, 0, 0], [np.nan, np.nan, True, 1], [np.nan] * 4],
                         index=["a", "b", "c", "d"])
    out = bgbb_summary(table)
    assert out.to_dict("list") == {"frequency": [2, 0, 2], "recency": [3, 0, 2], "n_periods": [4, 3, 2]}
    assert list(out.index) == ["a", "b", "c"]


def test_table_and_summary_fits_agree():
    table = simulate_opportunities(800, 1.0, 1.5, 0.8, 3.0, n_periods=[8] * 500 + [5] * 300, random_state=4)
    from_table = BetaGeoBetaBinomModel().fit(table)
    from_summary = BetaGeoBetaBinomModel().fit(bgbb_summary(table))
    np.testing.assert_allclose(from_table.params_, from_summary.params_, rtol=1e-10)
    assert from_table.n_members_ == 800


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (pd.DataFrame([[1, 2, 0]]), "0/1"),
        (pd.DataFrame([["yes", 0, 1]]), "0/1"),
        (pd.DataFrame([[1, np.nan, 0]]), "missing cells after"),
        (pd.DataFrame(index=[0, 1]), "empty"),
    ],
)
def test_bad_tables_are_rejected(table, words):
    with pytest.raises(WorkbookInputError, match=words):
        bgbb_summary(table)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ({"frequency": 3, "recency": 2, "n_periods": 6}, "recency"),
        ({"frequency": 1, "recency": 7, "n_periods": 6}, "recency"),
        ({"frequency": 0, "recency": 2, "n_periods": 6}, "must be 0"),
        ({"frequency": 1.5, "recency": 2, "n_periods": 6}, "frequency"),
        ({"frequency": 1, "recency": 1, "n_periods": 0}, "n_periods"),
    ],
)
def test_bad_summaries_are_rejected(row, words):
    good = pd.DataFrame({"frequency": [0, 2], "recency": [0, 3], "n_periods": [6, 6]})
    with pytest.raises(WorkbookInputError, match=words):
        BetaGeoBetaBinomModel().fit(pd.concat([good, pd.DataFrame([row])], ignore_index=True))


def test_no_transactions_and_not_fitted_are_clear():
    with pytest.raises(WorkbookInputError, match="No member transacted"):
        BetaGeoBetaBinomModel().fit(pd.DataFrame(np.zeros((5, 4))))
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinomModel().expected_purchases_population(3)
    with pytest.raises(WorkbookInputError, match="weights"):
        BetaGeoBetaBinomModel().fit(pd.DataFrame(np.ones((5, 4))), weights_col="weights")


# ------------------------------------------------------------------ simulation
TRUTH = pd.Series({"alpha": 1.2, "beta": 2.0, "gamma": 0.6, "delta": 3.0})


@pytest.fixture(scope="module")
def simulated():
    # 20,000 members over 12 weekly classes, a quarter of them joined 4 weeks late.
    n_periods = np.where(np.arange(20_000) % 4 == 0, 8, 12)
    return simulate_opportunities(20_000, *TRUTH, n_periods=n_periods, random_state=11)


def test_recovers_simulated_parameters(simulated):
    model = BetaGeoBetaBinomModel().fit(simulated)
    z = (np.log(model.params_ / TRUTH)) / (model.standard_errors_ / model.params_)
    assert (z.abs() < 3).all(), model.summary()
    table = model.summary()
    assert ((table["ci_lower"] < TRUTH) & (TRUTH < table["ci_upper"])).sum() >= 3, table


def test_forecasts_match_a_simulated_future(simulated):
    # Simulate 12 more weeks for the same members: the model's forecast of the 8- or 12-week
    # members' next 6 weeks must match the simulated totals by calibration frequency.
    full = simulate_opportunities(20_000, *TRUTH, n_periods=np.where(np.arange(20_000) % 4 == 0, 14, 18),
                                  random_state=11)
    # The same seed draws the same p, theta and lifetimes; only the attendance draws differ, so
    # refit on the first weeks of the longer table and compare with its last 6 weeks.
    calibration = full.iloc[:, :12]
    holdout = full.iloc[:, 12:].sum(axis=1)
    model = BetaGeoBetaBinomModel().fit(calibration)
    summary = bgbb_summary(calibration)
    predicted = model.expected_purchases(6, summary)
    assert predicted.sum() == pytest.approx(holdout.sum(), rel=0.05)
    by_freq = pd.DataFrame({"x": summary["frequency"].clip(upper=6), "pred": predicted, "act": holdout})
    means = by_freq.groupby("x")[["pred", "act"]].mean()
    assert (means["pred"] - means["act"]).abs().max() < 0.15, means


def test_population_expectation_matches_simulation():
    table = simulate_opportunities(40_000, *TRUTH, n_periods=10, random_state=2)
    model = BetaGeoBetaBinomModel()
    model.params_ = TRUTH.rename("estimate")
    assert model.expected_purchases_population(10).iloc[0] == pytest.approx(table.sum(axis=1).mean(), rel=0.02)
    observed = table.sum(axis=1).value_counts(normalize=True).sort_index()
    assert (model.frequency_distribution(10) - observed).abs().max() < 0.01
