"""Standard errors, confidence intervals and bootstrap intervals of the CLV models.

Checked against lifetimes' standard errors (exact autograd Hessians) on CDNOW and the
donations data, and by coverage of the truth on simulated data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbook.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    customer_lifetime_value,
    load_cdnow_summary,
    simulate_renewals,
)
from workbook.errors import WorkbookInputError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes touches a pandas option deprecated in pandas 3
    lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bgnbd(cdnow) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def gamma_gamma(cdnow) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow)


# ------------------------------------------------------------ against lifetimes
def test_bgnbd_standard_errors_match_lifetimes(bgnbd, cdnow):
    ref = lifetimes.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(bgnbd.standard_errors_, ref.standard_errors_[bgnbd.params_.index], rtol=1e-4)


def test_gamma_gamma_standard_errors_match_lifetimes(gamma_gamma, cdnow):
    repeat = cdnow[cdnow["frequency"] > 0]
    ref = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    ours = gamma_gamma.standard_errors_.rename({"gamma": "v"})
    np.testing.assert_allclose(ours, ref.standard_errors_[ours.index], rtol=1e-3)


# ------------------------------------------------------------- intervals
def test_summary_limits_are_log_normal_and_nested(bgnbd):
    wide, narrow = bgnbd.summary(0.99), bgnbd.summary(0.8)
    assert (wide["ci_lower"] > 0).all()
    assert ((wide["ci_lower"] < narrow["ci_lower"]) & (narrow["ci_upper"] < wide["ci_upper"])).all()
    # log(estimate) is the midpoint of the log limits.
    mid = (np.log(wide["ci_lower"]) + np.log(wide["ci_upper"])) / 2
    np.testing.assert_allclose(mid, np.log(wide["estimate"]), rtol=1e-12)
    with pytest.raises(WorkbookInputError, match="level"):
        bgnbd.summary(95)


def test_parameter_draws_follow_the_covariance(bgnbd):
    draws = bgnbd.parameter_draws(4000, random_state=3)
    assert draws.equals(bgnbd.parameter_draws(4000, random_state=3))
    log_cov = np.cov(np.log(draws.to_numpy()), rowvar=False)
    np.testing.assert_allclose(np.sqrt(np.diag(log_cov)), np.sqrt(np.diag(bgnbd.log_covariance_)), rtol=0.05)
    assert list(draws.columns) == ["r", "alpha", "a", "b"]


def test_hand_set_parameters_have_no_intervals():
    model = BetaGeoModel()
    model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert model.summary()["ci_lower"].isna().all()
    with pytest.raises(WorkbookInputError, match="set by hand"):
        model.bootstrap(lambda m: m.expected_purchases_population(52))


def test_population_forecast_band(bgnbd):
    band = bgnbd.bootstrap(lambda m: m.expected_purchases_population([13, 52]), n_draws=300, random_state=0)
    assert list(band.index) == [13.0, 52.0]
    assert ((band["lower"] < band["estimate"]) & (band["estimate"] < band["upper"])).all()
    # The delta method for the 52-week forecast gives about the same half-width.
    grad = np.array([
        (bgnbd.with_params(bgnbd.params_ * np.exp(e)).expected_purchases_population(52).iloc[0]
         - bgnbd.with_params(bgnbd.params_ * np.exp(-e)).expected_purchases_population(52).iloc[0]) / 2e-5
        for e in np.eye(4) * 1e-5])
    se = np.sqrt(grad @ bgnbd.log_covariance_.to_numpy() @ grad)
    half = (band.loc[52.0, "upper"] - band.loc[52.0, "lower"]) / 2
    assert half == pytest.approx(1.96 * se, rel=0.15)


def test_clv_interval(bgnbd, gamma_gamma, cdnow):
    head = cdnow.head(50)
    out = customer_lifetime_value(bgnbd, gamma_gamma, head, level=0.9, n_draws=100, random_state=1)
    again = customer_lifetime_value(bgnbd, gamma_gamma, head, level=0.9, n_draws=100, random_state=1)
    pd.testing.assert_frame_equal(out, again)
    assert ((out["clv_lower"] <= out["clv"]) & (out["clv"] <= out["clv_upper"])).all()
    assert (out["clv_upper"] > out["clv_lower"]).all()
    plain = customer_lifetime_value(bgnbd, gamma_gamma, head)
    pd.testing.assert_series_equal(out["clv"], plain["clv"])


# ------------------------------------------------------------- coverage
def test_sbg_intervals_cover_the_truth_about_95_percent_of_the_time():
    from scipy.special import betaln

    alpha, beta = 0.9, 2.5
    truth_s6 = np.exp(betaln(alpha, beta + 6) - betaln(alpha, beta))
    covered, band_covered, log_estimates, log_ses = [], [], [], []
    rng = np.random.default_rng(7)
    for _ in range(80):  # replications, each a fit on 800 simulated members
        members = simulate_renewals(800, alpha, beta, max_periods=rng.integers(2, 8, 800), random_state=rng)
        model = ShiftedBetaGeoModel().fit(members)
        table = model.summary()
        log_estimates.append(np.log(model.params_.to_numpy()))
        log_ses.append(np.sqrt(np.diag(model.log_covariance_)))
        covered.append(((table["ci_lower"] <= [alpha, beta]) & ([alpha, beta] <= table["ci_upper"])).to_numpy())
        # The bootstrap band of S(6), from the same draws bootstrap() uses (vectorised here).
        draws = model.parameter_draws(200, random_state=rng)
        s6 = np.exp(betaln(draws["alpha"], draws["beta"] + 6) - betaln(draws["alpha"], draws["beta"]))
        band_covered.append(np.quantile(s6, 0.025) <= truth_s6 <= np.quantile(s6, 0.975))
    rate = np.mean(covered, axis=0)
    # 80 replications: a 95% interval covers between about 87% and 100% of the time.
    assert ((rate > 0.86) & (rate <= 1.0)).all(), rate
    assert np.mean(band_covered) > 0.86, np.mean(band_covered)
    # Not trivially wide: the standard errors match the spread of the estimates across samples.
    spread = np.std(log_estimates, axis=0, ddof=1)
    np.testing.assert_allclose(np.mean(log_ses, axis=0), spread, rtol=0.25)
