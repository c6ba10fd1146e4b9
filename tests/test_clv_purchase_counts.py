"""Tests of workbook.clv.purchase_counts against lifetimes, integrals and simulated futures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.stats import nbinom

from workbook.clv import (
    BetaGeoModel,
    ParetoNBDModel,
    load_cdnow_summary,
    load_cdnow_transactions,
    probability_of_n_purchases,
    purchase_count_forecast,
    purchase_count_probabilities,
)
from workbook.errors import WorkbookInputError

lifetimes = pytest.importorskip("lifetimes")

BGNBD = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
PNBD = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})


def bg_model(params=BGNBD) -> BetaGeoModel:
    model = BetaGeoModel()
    model.params_ = params.copy()
    return model


def pnbd_model(params=PNBD) -> ParetoNBDModel:
    model = ParetoNBDModel()
    model.params_ = params.copy()
    return model


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


# ---------------------------------------------------------------- new members
@pytest.mark.parametrize("t", [1.0, 13.0, 39.0, 78.0])
def test_bgnbd_new_member_matches_lifetimes(t):
    reference = lifetimes.BetaGeoFitter()
    reference.params_ = BGNBD.copy()
    for n in [0, 1, 2, 5, 12]:
        assert probability_of_n_purchases(bg_model(), t, n) == pytest.approx(
            reference.probability_of_n_purchases_up_to_time(t, n), rel=1e-10, abs=1e-15
        )


@pytest.mark.parametrize("t", [2.0, 13.0, 52.0])
def test_pareto_nbd_new_member_matches_its_defining_integral(t):
    r, alpha, s, beta = PNBD
    for n in [0, 1, 3, 8]:
        def nb(tau):
            return nbinom.pmf(n, r, alpha / (alpha + tau))

        dropped = quad(lambda tau: nb(tau) * s * beta**s * (beta + tau) ** -(s + 1), 0, t,
                       epsabs=0, epsrel=1e-12)[0]
        direct = nb(t) * (beta / (beta + t)) ** s + dropped
        assert probability_of_n_purchases(pnbd_model(), t, n) == pytest.approx(direct, rel=1e-10)


def test_new_member_probabilities_sum_to_one_and_give_the_mean():
    for model in (bg_model(), pnbd_model()):
        table = purchase_count_probabilities(model, 26, max_purchases=300)
        assert table.sum(axis=1).iloc[0] == pytest.approx(1.0, abs=1e-12)
        assert table.iloc[0, -1] < 1e-9  # 300+ purchases: negligible
        mean = (table.iloc[0, :-1] * np.arange(300)).sum()
        assert mean == pytest.approx(model.expected_purchases_population(26).iloc[0], rel=1e-6)


# ---------------------------------------------------------------- members with a history
def test_pareto_nbd_conditional_matches_lifetimes(cdnow):
    reference = lifetimes.ParetoNBDFitter()
    reference.params_ = PNBD.copy()
    sample = cdnow.iloc[::25]
    for n in [0, 1, 2, 6]:
        ours = probability_of_n_purchases(pnbd_model(), 13, n, sample).to_numpy()
        theirs = np.array([
            reference.conditional_probability_of_n_purchases_up_to_time(n, 13, x, t_x, T)
            for x, t_x, T in sample[["frequency", "recency", "T"]].to_numpy()
        ])
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-14)


def test_conditional_probabilities_sum_to_one_and_give_conditional_mean(cdnow):
    sample = cdnow.iloc[::10]
    for model in (bg_model(), pnbd_model()):
        table = purchase_count_probabilities(model, 13, sample, max_purchases=60)
        np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-10)
        mean = table.iloc[:, :-1].to_numpy() @ np.arange(60)
        np.testing.assert_allclose(mean, model.expected_purchases(13, sample), rtol=1e-6, atol=1e-10)
        # Zero purchases: at least the probability of having left already.
        assert (table["0"] >= 1 - model.probability_alive(sample) - 1e-12).all()


def simulate_bgnbd_with_future(n, params, T, horizon, seed):
    """BG/NBD members observed on [0, T] and their purchases in (T, T + horizon]."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = params
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    k = rng.poisson(lam * (T + horizon))
    n_active = rng.geometric(p)  # repeat purchases made before dropping out
    member = np.repeat(np.arange(n), k)
    times = rng.uniform(0, T + horizon, len(member))
    order = np.lexsort((times, member))
    member, times = member[order], times[order]
    rank = np.arange(len(member)) - np.repeat(np.cumsum(k) - k, k)
    keep = rank < n_active[member]
    member, times = member[keep], times[keep]
    past = times <= T
    x = np.bincount(member[past], minlength=n)
    t_x = np.zeros(n)
    np.maximum.at(t_x, member[past], times[past])
    future = np.bincount(member[~past], minlength=n)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": float(T)}), future


def test_forecast_table_matches_simulated_next_quarter():
    summary, future = simulate_bgnbd_with_future(30_000, tuple(BGNBD), T=39.0, horizon=13.0, seed=4)
    table = purchase_count_forecast(bg_model(), summary, 13)
    assert table["purchases"].tolist() == ["0", "1", "2", "3+"]
    assert table["expected_members"].sum() == pytest.approx(30_000)
    actual = np.bincount(np.minimum(future, 3), minlength=4)
    # Within a few standard errors of a multinomial count.
    se = np.sqrt(30_000 * table["share"] * (1 - table["share"]))
    assert (np.abs(table["expected_members"] - actual) < 4 * se).all(), (table, actual)


def test_forecast_on_cdnow_next_quarter(cdnow):
    # Actual purchase days of the 2357 customers in the 13 weeks after calibration.
    tx = load_cdnow_transactions()
    quarter = tx[(tx["timestamp"] >= "1997-10-01") & (tx["timestamp"] < "1997-12-31")]
    days = quarter.groupby("member_id")["timestamp"].nunique().reindex(cdnow.index, fill_value=0)
    actual = np.bincount(np.minimum(days, 2), minlength=3) / len(cdnow)
    for model in (bg_model(), pnbd_model()):
        table = purchase_count_forecast(model, cdnow, 13, max_purchases=2)
        assert table["purchases"].tolist() == ["0", "1", "2+"]
        assert table["share"].sum() == pytest.approx(1.0)
        # Both models are within 3 percentage points of what happened (83% bought nothing).
        np.testing.assert_allclose(table["share"], actual, atol=0.03)


# ---------------------------------------------------------------- errors
def test_bad_input():
    with pytest.raises(WorkbookInputError, match="BetaGeoModel or ParetoNBDModel"):
        probability_of_n_purchases(object(), 13, 0)
    with pytest.raises(WorkbookInputError, match="positive"):
        probability_of_n_purchases(bg_model(), 0, 0)
    with pytest.raises(WorkbookInputError, match="whole number"):
        probability_of_n_purchases(bg_model(), 13, -1)
    with pytest.raises(WorkbookInputError, match="max_purchases"):
        purchase_count_probabilities(bg_model(), 13, max_purchases=0)
    days = pd.DataFrame({"frequency": [1], "recency": [3.0], "T": [10.0]})
    days.attrs = {"time_unit": "D"}
    with pytest.raises(WorkbookInputError, match="time unit"):
        purchase_count_forecast(pnbd_model(), days, 13)
    with pytest.raises(WorkbookInputError):
        probability_of_n_purchases(BetaGeoModel(), 13, 0)
