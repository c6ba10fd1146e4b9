"""Tests of workbook.clv.covariates: BG/NBD with time-invariant covariates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbook.clv import BetaGeoModel, bgnbd_log_likelihood
from workbook.clv.covariates import BetaGeoCovariateModel
from workbook.errors import WorkbookInputError

TRUTH = {"r": 0.6, "alpha": 6.0, "a": 0.8, "b": 3.0, "purchase:app": 0.7, "dropout:app": -0.6}


def simulate(n, seed, purchase_coef=0.7, dropout_coef=-0.6):
    """BG/NBD members whose alpha and a depend on a 0/1 covariate (independent of the package)."""
    rng = np.random.default_rng(seed)
    app = rng.integers(0, 2, n)
    alpha = TRUTH["alpha"] * np.exp(-purchase_coef * app)
    a = TRUTH["a"] * np.exp(dropout_coef * app)
    lam = rng.gamma(TRUTH["r"], 1.0 / alpha)
    p = rng.beta(a, TRUTH["b"])
    T = rng.uniform(26, 78, n)
    K = rng.poisson(lam * T)
    x = np.minimum(K, rng.geometric(p))
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), K - x + 1), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "app": app,
                         "noise": rng.normal(size=n)})


@pytest.fixture(scope="module")
def simulated():
    return simulate(8000, seed=3)


@pytest.fixture(scope="module")
def fitted(simulated):
    return BetaGeoCovariateModel(purchase_covariates=["app"], dropout_covariates=["app"]).fit(simulated)


def test_recovers_the_simulated_effects(fitted):
    table = fitted.summary()
    truth = pd.Series(TRUTH)
    z = (table["estimate"] - truth) / table["standard_error"]
    assert (z.abs() < 3.5).all(), table
    # Both effects are clearly visible: their intervals exclude 0 on the right side.
    assert table.loc["purchase:app", "ci_lower"] > 0 and table.loc["dropout:app", "ci_upper"] < 0
    assert (table.loc[["r", "alpha", "a", "b"], "ci_lower"] > 0).all()


def test_no_effect_gives_the_plain_model(simulated):
    plain = simulate(6000, seed=8, purchase_coef=0.0, dropout_coef=0.0)
    model = BetaGeoCovariateModel(purchase_covariates=["noise"], dropout_covariates=["noise"]).fit(plain)
    base = BetaGeoModel().fit(plain)
    table = model.summary()
    assert (table.loc[["purchase:noise", "dropout:noise"], "ci_lower"] < 0).all()
    assert (table.loc[["purchase:noise", "dropout:noise"], "ci_upper"] > 0).all()
    np.testing.assert_allclose(model.params_[["r", "alpha", "a", "b"]], base.params_, rtol=0.05)
    assert model.log_likelihood_ >= base.log_likelihood_ - 1e-6  # nested: never worse


def test_likelihood_and_predictions_use_the_member_parameters(fitted, simulated):
    head = simulated.head(200)
    member = fitted.member_params(head)
    ll = bgnbd_log_likelihood(tuple(member[c].to_numpy() for c in ["r", "alpha", "a", "b"]),
                              head["frequency"], head["recency"], head["T"])
    assert np.isfinite(ll).all()
    for app in (0, 1):
        rows = head[head["app"] == app]
        group = BetaGeoModel()
        group.params_ = member.loc[rows.index].iloc[0]
        np.testing.assert_allclose(fitted.expected_purchases(26, rows), group.expected_purchases(26, rows),
                                   rtol=1e-10)
        np.testing.assert_allclose(fitted.probability_alive(rows), group.probability_alive(rows), rtol=1e-10)


def test_parameter_draws_keep_coefficients_on_their_scale(fitted):
    draws = fitted.parameter_draws(2000, random_state=0)
    assert (draws["dropout:app"] < 0).mean() > 0.9  # negative effect: draws are not exponentiated
    assert (draws[["r", "alpha", "a", "b"]] > 0).all().all()
    np.testing.assert_allclose(draws["purchase:app"].std(), fitted.standard_errors_["purchase:app"], rtol=0.1)


def test_bad_covariates_are_rejected(simulated):
    with pytest.raises(WorkbookInputError, match="missing"):
        BetaGeoCovariateModel(purchase_covariates=["tier"]).fit(simulated)
    with pytest.raises(WorkbookInputError, match="single value"):
        BetaGeoCovariateModel(dropout_covariates=["one"]).fit(simulated.assign(one=1.0))
    with pytest.raises(WorkbookInputError, match="missing or infinite"):
        BetaGeoCovariateModel(purchase_covariates=["app"]).fit(
            simulated.assign(app=simulated["app"].where(simulated.index > 0)))
