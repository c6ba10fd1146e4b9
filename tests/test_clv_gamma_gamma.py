"""Tests of workbook.clv.gamma_gamma against the published CDNOW fit and simulations."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pandas as pd
import pytest

import workbook.clv.gamma_gamma as gg_module
from workbook.clv import (
    FrequencySpendCorrelationWarning,
    GammaGammaModel,
    gamma_gamma_log_likelihood,
    load_cdnow_summary,
)
from workbook.clv.cdnow import PUBLISHED_GAMMA_GAMMA_PARAMS
from workbook.errors import WorkbookInputError

PUBLISHED = pd.Series(PUBLISHED_GAMMA_GAMMA_PARAMS)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow)


def published_model() -> GammaGammaModel:
    model = GammaGammaModel()
    model.params_ = PUBLISHED.copy()
    return model


def simulate_spend(n, p, q, gamma, seed):
    """Repeat buyers with 1-10 purchases; spend per purchase Gamma(p, rate nu), nu ~ Gamma(q, gamma)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 11, n)
    nu = rng.gamma(q, 1.0 / gamma, n)
    # The sum of x Gamma(p, nu) spends is Gamma(p x, nu); average = sum / x.
    m = rng.gamma(p * x, 1.0 / nu) / x
    return pd.DataFrame({"frequency": x, "monetary_value": m})


def test_cdnow_fit_matches_published_estimates(fitted):
    # The published values are rounded to 2 decimals: the fit must agree to within that
    # rounding (0.005 absolute, i.e. < 0.2% for q and < 0.1% for p and gamma); allow 0.5%.
    rel = (fitted.params_[PUBLISHED.index] / PUBLISHED - 1).abs()
    assert (rel < 0.005).all(), rel
    np.testing.assert_allclose(fitted.params_[PUBLISHED.index], PUBLISHED, atol=0.01)


def test_cdnow_fit_uses_only_the_946_repeat_buyers(fitted, cdnow):
    assert fitted.n_members_ == 946 == int((cdnow["frequency"] > 0).sum())
    # Fader & Hardie (2013) report a correlation of 0.11 between frequency and spend.
    assert fitted.frequency_spend_correlation_ == pytest.approx(0.11, abs=0.005)
    repeat = cdnow[cdnow["frequency"] > 0]
    total = gamma_gamma_log_likelihood(
        fitted.params_.to_numpy(), repeat["frequency"], repeat["monetary_value"]
    ).sum()
    assert total == pytest.approx(fitted.log_likelihood_, rel=1e-12)


def test_expected_average_spend_matches_hardie_spreadsheet(fitted, cdnow):
    # Conditional expected average spend of the first 10 CDNOW customers from Hardie's
    # Gamma-Gamma spreadsheet (http://brucehardie.com/notes/025/).
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    got = fitted.expected_average_spend(cdnow.head(10))
    # Printed to 2 decimals; optimiser differences move the 3rd decimal by < 0.01.
    np.testing.assert_allclose(got.to_numpy(), expected, atol=0.01)
    assert got.name == "expected_average_spend"
    assert got.index.equals(cdnow.head(10).index)


def test_expected_spend_is_weighted_average_of_own_and_population_mean():
    model = published_model()
    p, q, gamma = PUBLISHED
    pop = p * gamma / (q - 1)
    assert model.population_mean_spend() == pytest.approx(pop)
    rows = pd.DataFrame({"frequency": [0, 3, 200], "monetary_value": [0.0, 80.0, 80.0]})
    spend = model.expected_average_spend(rows).to_numpy()
    w = p * 3 / (p * 3 + q - 1)
    assert spend[0] == pytest.approx(pop)
    assert spend[1] == pytest.approx(w * 80.0 + (1 - w) * pop)
    assert spend[2] == pytest.approx(80.0, rel=0.01)  # many purchases: own mean dominates


def test_recovers_true_parameters_of_simulated_population():
    # 20,000 repeat buyers: q and gamma are estimated within a few percent; p within 5%.
    true = pd.Series({"p": 4.0, "q": 3.0, "gamma": 20.0})
    model = GammaGammaModel().fit(simulate_spend(20_000, *true, seed=5))
    rel = (model.params_ / true - 1).abs()
    assert (rel < 0.10).all(), rel
    assert abs(model.frequency_spend_correlation_) < 0.05


def test_warns_when_frequency_and_spend_are_correlated():
    data = simulate_spend(2000, 4.0, 3.0, 20.0, seed=2)
    data["monetary_value"] = data["monetary_value"] * data["frequency"] ** 1.5
    with pytest.warns(FrequencySpendCorrelationWarning, match="correlated"):
        GammaGammaModel().fit(data)


def test_no_warning_on_independent_spend():
    data = simulate_spend(2000, 4.0, 3.0, 20.0, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FrequencySpendCorrelationWarning)
        GammaGammaModel().fit(data)


def test_fit_does_not_modify_input(cdnow):
    before = cdnow.copy()
    GammaGammaModel().fit(cdnow)
    pd.testing.assert_frame_equal(cdnow, before)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"frequency": [1, 2]}), r"missing column\(s\) \['monetary_value'\]"),
        (pd.DataFrame({"frequency": [1, 2], "monetary_value": [5.0, 0.0]}), "positive.*row 1"),
        (pd.DataFrame({"frequency": [1, 2], "monetary_value": [5.0, -3.0]}), "negative.*row 1"),
        (pd.DataFrame({"frequency": [1, 2], "monetary_value": [5.0, "x"]}), "numeric"),
        (pd.DataFrame({"frequency": [0] * 20 + [1] * 5, "monetary_value": [0.0] * 20 + [9.0] * 5}), "Only 5 members"),
    ],
)
def test_fit_rejects_bad_input(frame, match):
    with pytest.raises(WorkbookInputError, match=match):
        GammaGammaModel().fit(frame)


def test_unfitted_and_heavy_tailed_models_raise():
    rows = pd.DataFrame({"frequency": [1], "monetary_value": [10.0]})
    with pytest.raises(WorkbookInputError, match="not fitted"):
        GammaGammaModel().expected_average_spend(rows)
    model = GammaGammaModel()
    model.params_ = pd.Series({"p": 2.0, "q": 0.9, "gamma": 10.0})
    with pytest.raises(WorkbookInputError, match="q = 0.900 <= 1"):
        model.expected_average_spend(rows)


def test_docstring_examples_run():
    assert doctest.testmod(gg_module, raise_on_error=False).failed == 0


def test_analytic_gradient_matches_finite_differences():
    from scipy.optimize import approx_fprime

    data = simulate_spend(500, 2.0, 3.0, 12.0, seed=9)
    x, m = data["frequency"].to_numpy(float), data["monetary_value"].to_numpy()
    f = gg_module._negative_log_likelihood_and_gradient
    for log_params in (np.log([2.0, 3.0, 12.0]), np.log([0.5, 8.0, 100.0])):
        value, grad = f(log_params, x, m)
        assert value == pytest.approx(-gamma_gamma_log_likelihood(np.exp(log_params), x, m).mean())
        numeric = approx_fprime(log_params, lambda p: f(p, x, m)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


def test_standard_errors_match_the_numerical_hessian_of_the_log_likelihood():
    """Gamma-Gamma reports standard errors like BG/NBD, from the inverse Hessian at the optimum.

    Checked against an independent computation: second differences of the
    summed log-likelihood (``gamma_gamma_log_likelihood``) in the natural
    parameters, inverted.
    """
    from statsmodels.tools.numdiff import approx_hess

    from workbook.clv import GammaGammaModel, gamma_gamma_log_likelihood

    rng = np.random.default_rng(5)
    x = rng.integers(1, 8, 3000)
    nu = rng.gamma(4.0, 1 / 15.0, 3000)
    m = rng.gamma(6.0 * x, 1 / (x * nu))
    summary = pd.DataFrame({"frequency": x, "monetary_value": m})
    model = GammaGammaModel().fit(summary)
    est = model.params_.to_numpy()
    hess = approx_hess(est, lambda p: -gamma_gamma_log_likelihood(p, x, m).sum())
    expected = np.sqrt(np.diag(np.linalg.inv(hess)))
    np.testing.assert_allclose(model.standard_errors_.to_numpy(), expected, rtol=0.02)
    table = model.summary()
    assert list(table.index) == ["p", "q", "gamma"]
    # Limits are a normal interval on the log scale: symmetric around log(estimate).
    se_log = table["standard_error"] / table["estimate"]
    np.testing.assert_allclose(np.log(table["ci_upper"] / table["estimate"]), 1.959964 * se_log, rtol=1e-5)
    np.testing.assert_allclose(np.log(table["estimate"] / table["ci_lower"]), 1.959964 * se_log, rtol=1e-5)
    # The simulated truth (p=6, q=4, gamma=15) lies within about three standard errors.
    z = (model.params_ - pd.Series({"p": 6.0, "q": 4.0, "gamma": 15.0})) / model.standard_errors_
    assert (z.abs() < 3.5).all(), z


def test_clv_models_share_the_estimator_contract():
    from sklearn.base import clone

    from workbook.clv import BetaGeoModel, GammaGammaModel
    from workbook.errors import NotFittedError, WorkbookInputError

    for model in (BetaGeoModel(time_unit="D"), GammaGammaModel()):
        assert clone(model).get_params() == model.get_params()
        with pytest.raises(NotFittedError, match="not fitted") as excinfo:
            model.summary()
        assert isinstance(excinfo.value, WorkbookInputError)
        assert "params_" in str(excinfo.value)  # says how to use published estimates
