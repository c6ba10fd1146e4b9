"""Tests of workbook.clv.sbg against Fader & Hardie (2007), direct sums and simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from workbook.clv import ShiftedBetaGeoModel, simulate_renewals, survival_counts_to_lifetimes
from workbook.clv.sbg import sbg_log_likelihood
from workbook.errors import ConvergenceError, NotFittedError, WorkbookInputError

# Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing
# 21(1): survivors per year 0-7 of two cohorts of 1000.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
# Their estimates: the 63% first-year retention of the regular cohort means a churn
# probability of 0.37 = 0.704 / (0.704 + 1.182); the high-end cohort's 87% goes with
# 0.668 / (0.668 + 3.806) = 0.15.  (The task brief had the two pairs swapped.)
PUBLISHED = {"regular": (0.704, 1.182, REGULAR), "high_end": (0.668, 3.806, HIGH_END)}


@pytest.mark.parametrize("name", ["regular", "high_end"])
def test_published_estimates_on_years_1_to_7(name):
    alpha, beta, survivors = PUBLISHED[name]
    model = ShiftedBetaGeoModel().fit(survivors)
    np.testing.assert_allclose(model.params_[["alpha", "beta"]], [alpha, beta], atol=1e-3)
    assert model.n_members_ == 1000
    # The fitted log-likelihood is the one of the published parameters, up to rounding.
    table = survival_counts_to_lifetimes(survivors)
    assert model.log_likelihood_ == pytest.approx(sbg_log_likelihood((alpha, beta), table), abs=0.01)
    assert model.log_likelihood_ >= sbg_log_likelihood((alpha, beta), table)


def test_fit_on_first_years_projects_later_survival():
    # The paper's point: fit on years 1-4, project years 5-7 within a few members.
    model = ShiftedBetaGeoModel().fit(REGULAR[:5])
    projected = model.retention_curve(7, cohort_size=1000)["expected_active"]
    actual = pd.Series(REGULAR, index=range(8))
    assert (abs(projected.loc[5:7] - actual.loc[5:7]) < 15).all(), projected
    # A constant-retention (geometric) projection would be far too low by year 7.
    assert actual[7] - 1000 * (actual[4] / 1000) ** (7 / 4) > 60


def test_member_level_fit_equals_cohort_fit():
    # Expand the regular cohort into members: churned in year t has t - 1 renewals.
    table = survival_counts_to_lifetimes(REGULAR)
    renewals = np.concatenate(
        [np.repeat(table["periods_paid"] - 1, table["churned"]), np.full(REGULAR[-1], 7)]
    )
    active = np.concatenate([np.zeros(1000 - REGULAR[-1], bool), np.ones(REGULAR[-1], bool)])
    members = pd.DataFrame({"renewals": renewals, "active": active})
    by_member = ShiftedBetaGeoModel().fit(members)
    by_cohort = ShiftedBetaGeoModel().fit(REGULAR)
    np.testing.assert_allclose(by_member.params_, by_cohort.params_, rtol=1e-6)
    assert by_member.log_likelihood_ == pytest.approx(by_cohort.log_likelihood_, rel=1e-9)


def test_several_cohorts_pool_like_their_members():
    # Two cohorts observed for different lengths, fitted with common parameters.
    cohorts = {"2022": REGULAR, "2024": [800, 510, 380]}
    pooled = ShiftedBetaGeoModel().fit(cohorts)
    frames = []
    for counts in cohorts.values():
        table = survival_counts_to_lifetimes(counts)
        frames.append(pd.DataFrame({
            "renewals": np.concatenate([np.repeat(table["periods_paid"] - 1, table["churned"]),
                                        np.full(counts[-1], len(counts) - 1)]),
            "active": np.r_[np.zeros(counts[0] - counts[-1], bool), np.ones(counts[-1], bool)],
        }))
    by_member = ShiftedBetaGeoModel().fit(pd.concat(frames, ignore_index=True))
    np.testing.assert_allclose(pooled.params_, by_member.params_, rtol=1e-6)
    assert pooled.n_members_ == 1800
    # No single cohort size: the curve has no expected_active unless one is given.
    assert "expected_active" not in pooled.retention_curve(3)
    assert pooled.retention_curve(3, cohort_size=500)["expected_active"].iloc[0] == 500
    assert ShiftedBetaGeoModel().fit(REGULAR).retention_curve(3)["expected_active"].iloc[0] == 1000


def test_survival_and_retention_formulas():
    model = ShiftedBetaGeoModel().fit(REGULAR)
    a, b = model.params_
    t = np.arange(0, 12)
    s = model.survival(t).to_numpy()
    # S(t) = prod_{i<=t} r(i), with the closed-form retention rate.
    np.testing.assert_allclose(s[1:], np.cumprod(model.retention_rate(t[1:]).to_numpy()), rtol=1e-12)
    np.testing.assert_allclose(s, np.exp(betaln(a, b + t) - betaln(a, b)), rtol=1e-12)
    # Retention rises with tenure (sorting effect of heterogeneity).
    assert np.all(np.diff(model.retention_rate(t[1:]).to_numpy()) > 0)


def test_standard_errors_and_summary():
    model = ShiftedBetaGeoModel().fit(HIGH_END)
    table = model.summary()
    assert list(table.columns) == ["estimate", "standard_error", "ci_lower", "ci_upper"]
    assert (table["standard_error"] > 0).all()
    assert (table["ci_lower"] < table["estimate"]).all()
    # Hessian check by finite differences of the log-likelihood on the original scale.
    lt = model.lifetimes_
    p = model.params_.to_numpy()
    h = 1e-4 * p

    def ll(q):
        return sbg_log_likelihood(q, lt)

    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            hess[i, j] = (ll(p + ei + ej) - ll(p + ei - ej) - ll(p - ei + ej) + ll(p - ei - ej)) / (
                4 * h[i] * h[j]
            )
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(model.standard_errors_, se, rtol=1e-3)


def test_derl_matches_direct_sum():
    model = ShiftedBetaGeoModel().fit(REGULAR)
    a, b = model.params_
    k = np.array([0, 1, 4, 10])
    d = 0.1
    j = np.arange(0, 5000)
    direct = [
        (np.exp(betaln(a, b + kk + 1 + j) - betaln(a, b + kk)) / (1 + d) ** j).sum() for kk in k
    ]
    derl = model.discounted_residual_lifetime_value(k, value_per_period=1.0, discount_rate=d)
    np.testing.assert_allclose(derl.to_numpy(), direct, rtol=1e-8)
    scaled = model.discounted_residual_lifetime_value(k, value_per_period=50, discount_rate=d)
    np.testing.assert_allclose(scaled.to_numpy(), 50 * np.array(direct), rtol=1e-8)
    # Longer-tenured members are worth more (they are the loyal ones).
    assert np.all(np.diff(derl.to_numpy()) > 0)


def test_expected_remaining_periods():
    model = ShiftedBetaGeoModel()
    model.params_ = pd.Series({"alpha": 2.5, "beta": 4.0})
    k = np.array([0, 3])
    closed = model.expected_remaining_periods(k).to_numpy()
    np.testing.assert_allclose(closed, (4.0 + k) / 1.5)
    # Equals the undiscounted DERL and the long-horizon sum of survival ratios.
    np.testing.assert_allclose(
        model.discounted_residual_lifetime_value(k, discount_rate=0.0).to_numpy(), closed, rtol=1e-8
    )
    long = model.expected_remaining_periods(k, horizon_periods=200_000).to_numpy()
    np.testing.assert_allclose(long, closed, rtol=1e-3)
    # alpha <= 1: the mean is infinite, a horizon gives a finite answer.
    model.params_ = pd.Series({"alpha": 0.7, "beta": 1.2})
    assert np.isinf(model.expected_remaining_periods([0]).iloc[0])
    assert np.isinf(model.discounted_residual_lifetime_value([0], discount_rate=0).iloc[0])
    assert 0 < model.expected_remaining_periods([0], horizon_periods=5).iloc[0] < 5


def test_residual_value_by_cohort():
    model = ShiftedBetaGeoModel().fit(REGULAR)
    members = pd.DataFrame(
        {"renewals": [0, 0, 2, 2, 2, 5, 1], "active": [True, True, True, True, False, True, False]}
    )
    table = model.residual_value_by_cohort(members, value_per_period=100, discount_rate=0.1)
    assert table.index.tolist() == [0, 2, 5]
    assert table["n_active"].tolist() == [2, 2, 1]
    per = model.discounted_residual_lifetime_value([0, 2, 5], value_per_period=100, discount_rate=0.1)
    np.testing.assert_allclose(table["residual_value"], table["n_active"] * per.to_numpy())
    np.testing.assert_allclose(table["renewal_probability"], model.retention_rate([1, 3, 6]))


def test_recovers_simulated_parameters():
    rng = np.random.default_rng(7)
    horizon = rng.integers(1, 13, 30_000)
    sim = simulate_renewals(30_000, 0.9, 2.5, max_periods=horizon, random_state=11)
    model = ShiftedBetaGeoModel().fit(sim)
    z = (model.params_ - pd.Series({"alpha": 0.9, "beta": 2.5})) / model.standard_errors_
    assert (z.abs() < 3).all(), model.summary()
    # Same seed, same data.
    again = simulate_renewals(30_000, 0.9, 2.5, max_periods=horizon, random_state=11)
    pd.testing.assert_frame_equal(sim, again)


def test_bad_input_messages():
    with pytest.raises(WorkbookInputError, match="never increase"):
        ShiftedBetaGeoModel().fit([1000, 600, 700])
    with pytest.raises(WorkbookInputError, match="at least two"):
        ShiftedBetaGeoModel().fit([1000])
    with pytest.raises(WorkbookInputError, match="No member has churned"):
        ShiftedBetaGeoModel().fit([500, 500, 500])
    with pytest.raises(WorkbookInputError, match="'renewals'"):
        ShiftedBetaGeoModel().fit(pd.DataFrame({"renewals": [1, -1], "active": [True, False]}))
    phones = pd.Index(["13800138000", "13900139000"], name="member_id")
    err = pytest.raises(
        WorkbookInputError, ShiftedBetaGeoModel().fit,
        pd.DataFrame({"renewals": [1, -1], "active": [True, False]}, index=phones),
    ).value
    assert "row 1" in str(err) and "139" not in str(err)  # positions, never member ids
    with pytest.raises(WorkbookInputError, match="'active'"):
        ShiftedBetaGeoModel().fit(pd.DataFrame({"renewals": [1, 2], "active": ["yes", "no"]}))
    with pytest.raises(NotFittedError):
        ShiftedBetaGeoModel().survival([1])
    model = ShiftedBetaGeoModel().fit(REGULAR)
    with pytest.raises(WorkbookInputError, match="discount_rate"):
        model.discounted_residual_lifetime_value([0], discount_rate=-0.1)
    with pytest.raises(WorkbookInputError, match="whole numbers"):
        model.survival([1.5])
    err = pytest.raises(WorkbookInputError, ShiftedBetaGeoModel().fit, [1000, 600, 700]).value
    assert err.message_zh


def test_boundary_gives_clear_convergence_error():
    # Everyone leaves after one period: P(T = 1) = 1 needs beta -> 0.
    with pytest.raises(ConvergenceError, match="sBG estimates ran off to a boundary"):
        ShiftedBetaGeoModel().fit([100, 0, 0])


def test_homogeneous_churn_is_flagged_by_huge_standard_errors():
    # Exactly geometric survival (no heterogeneity): alpha, beta grow large together, the
    # retention rate stays at 0.5 and the standard errors show that alpha is not identified.
    model = ShiftedBetaGeoModel().fit([1024, 512, 256, 128, 64, 32])
    np.testing.assert_allclose(model.retention_rate([1, 5, 20]), 0.5, atol=1e-3)
    assert (model.standard_errors_ > model.params_).all()


def test_sklearn_contract():
    from sklearn.base import clone

    model = ShiftedBetaGeoModel()
    assert model.fit(REGULAR) is model
    assert clone(model).get_params() == {}
    assert repr(model) == "ShiftedBetaGeoModel(alpha=0.704, beta=1.182)"
    assert not hasattr(clone(model), "params_")
