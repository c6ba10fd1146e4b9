"""Significance tests, CUPED, uplift and ROI of workbook.experiments.

Reference values come from direct statsmodels/scipy calls on the same data and
from hand computation with the textbook formulas.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
    test_proportions_2indep as sm_test_proportions_2indep,
)

from workbook.errors import WorkbookInputError
from workbook.experiments import (
    campaign_roi,
    cuped,
    cuped_comparison,
    mean_test,
    proportion_test,
    simulate_campaign,
    uplift_by_segment,
)


def two_arm(x_c, n_c, x_t, n_t, arms=("control", "treatment")):
    """Members frame with x conversions out of n per arm (control rows first)."""
    return pd.DataFrame(
        {
            "arm": [arms[0]] * n_c + [arms[1]] * n_t,
            "converted": [1] * x_c + [0] * (n_c - x_c) + [1] * x_t + [0] * (n_t - x_t),
        }
    )


def wilson(x, n, z):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# ---------------------------------------------------------------- proportion_test
def test_proportion_test_hand_computed_2x2():
    # control 20/200 = 10%, treatment 36/200 = 18%.
    r = proportion_test(two_arm(20, 200, 36, 200))
    assert (r.n_control, r.n_treatment) == (200, 200)
    assert (r.conversions_control, r.conversions_treatment) == (20, 36)
    assert r.abs_lift == pytest.approx(0.08)
    assert r.rel_lift == pytest.approx(0.8)
    # Pooled z: p = 56/400 = 0.14, se = sqrt(0.14 * 0.86 * (1/200 + 1/200)).
    z = 0.08 / math.sqrt(0.14 * 0.86 * 0.01)
    assert r.z == pytest.approx(z, rel=1e-10)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-10)
    # Newcombe hybrid score interval from the two Wilson intervals.
    zc = stats.norm.ppf(0.975)
    l1, u1 = wilson(36, 200, zc)
    l2, u2 = wilson(20, 200, zc)
    assert r.ci_low == pytest.approx(0.08 - math.sqrt((0.18 - l1) ** 2 + (u2 - 0.10) ** 2), rel=1e-9)
    assert r.ci_high == pytest.approx(0.08 + math.sqrt((u1 - 0.18) ** 2 + (0.10 - l2) ** 2), rel=1e-9)
    assert (r.rate_control_ci_low, r.rate_control_ci_high) == pytest.approx((l2, u2))
    h = 2 * math.asin(math.sqrt(0.18)) - 2 * math.asin(math.sqrt(0.10))
    assert r.cohens_h == pytest.approx(h)
    assert r.significant


@pytest.mark.parametrize("counts", [(120, 1000, 150, 1000), (45, 300, 30, 280), (3, 50, 9, 61)])
@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
def test_proportion_test_matches_statsmodels(counts, alternative):
    x_c, n_c, x_t, n_t = counts
    r = proportion_test(two_arm(x_c, n_c, x_t, n_t), alternative=alternative)
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c], alternative=alternative)
    assert r.z == pytest.approx(z, rel=1e-9)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    if alternative == "two-sided":
        low, upp = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", alpha=0.05)
        assert (r.ci_low, r.ci_high) == pytest.approx((low, upp), rel=1e-9)
        rlow, rupp = confint_proportions_2indep(
            x_t, n_t, x_c, n_c, method="score", compare="ratio", correction=False
        )
        assert (r.rel_lift_ci_low, r.rel_lift_ci_high) == pytest.approx((rlow - 1, rupp - 1), rel=1e-6)
    else:
        # One-sided 95% interval = one bound of the two-sided 90% interval.
        low, upp = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", alpha=0.10)
        expected = (low, np.inf) if alternative == "larger" else (-np.inf, upp)
        assert (r.ci_low, r.ci_high) == pytest.approx(expected, rel=1e-9)
    assert r.cohens_h == pytest.approx(proportion_effectsize(x_t / n_t, x_c / n_c))


@pytest.mark.parametrize("method", ["wald", "agresti-caffo"])
def test_proportion_test_other_methods_match_statsmodels(method):
    r = proportion_test(two_arm(45, 300, 30, 280), method=method, alpha=0.1)
    ref = sm_test_proportions_2indep(30, 280, 45, 300, method=method, correction=False)
    low, upp = confint_proportions_2indep(30, 280, 45, 300, method=method, alpha=0.1)
    assert (r.z, r.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx((low, upp), rel=1e-9)


def test_proportion_test_accepts_bool_custom_names_and_keeps_input():
    df = two_arm(10, 100, 25, 100, arms=("A", "B")).rename(columns={"arm": "grp", "converted": "bought"})
    df["bought"] = df["bought"].astype(bool)
    before = df.copy()
    r = proportion_test(df, "grp", "bought", control="A", treatment="B")
    assert r.rate_treatment == pytest.approx(0.25)
    pd.testing.assert_frame_equal(df, before)
    frame = r.to_frame()
    assert frame.shape[0] == 1 and frame.loc[0, "p_value"] == r.p_value
    text = r.summary()
    assert "转化率" in text and "percentage points" in text and "25.00%" in text


def test_proportion_test_errors():
    df = two_arm(10, 100, 25, 100)
    bad = df.copy()
    bad.loc[[3, 150], "converted"] = 2
    with pytest.raises(WorkbookInputError, match=r"'converted'.*rows 3, 150"):
        proportion_test(bad)
    third = df.copy()
    third["arm"] = third["arm"].astype(object)
    third.loc[7, "arm"] = "holdout"
    with pytest.raises(WorkbookInputError, match=r"other values \['holdout'\] at row 7"):
        proportion_test(third)
    with pytest.raises(WorkbookInputError, match="no rows for arm 'B'"):
        proportion_test(df.replace({"treatment": "control"}), treatment="B")
    with pytest.raises(WorkbookInputError, match="missing column"):
        proportion_test(df, outcome_col="redeemed")
    with pytest.raises(WorkbookInputError, match="no variation"):
        proportion_test(two_arm(0, 50, 0, 50))
    with pytest.raises(WorkbookInputError, match="at least 2"):
        proportion_test(two_arm(1, 1, 3, 10))
    with pytest.raises(WorkbookInputError, match="alternative"):
        proportion_test(df, alternative="greater")
    with pytest.raises(WorkbookInputError, match="alpha"):
        proportion_test(df, alpha=5)
    with pytest.raises(WorkbookInputError, match="method"):
        proportion_test(df, method="exact")
    missing = df.copy()
    missing["converted"] = missing["converted"].astype("float64")
    missing.loc[4, "converted"] = np.nan
    with pytest.raises(WorkbookInputError, match="missing values at row 4"):
        proportion_test(missing)


# ---------------------------------------------------------------- mean_test
@pytest.fixture
def spend_df():
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "arm": ["control"] * 60 + ["treatment"] * 45,
            "spend": np.r_[rng.gamma(2.0, 50.0, 60), rng.gamma(2.0, 60.0, 45)],
        }
    )


def test_mean_test_hand_computed():
    df = pd.DataFrame({"arm": ["control"] * 4 + ["treatment"] * 4,
                       "spend": [10.0, 12.0, 9.0, 11.0, 14.0, 15.0, 13.0, 16.0]})
    r = mean_test(df)
    # Both arms: variance 5/3; se = sqrt(2 * 5/3 / 4); Welch df = 6.
    se = math.sqrt(2 * (5 / 3) / 4)
    assert r.diff == pytest.approx(4.0)
    assert r.t == pytest.approx(4.0 / se)
    assert r.df == pytest.approx(6.0)
    assert r.p_value == pytest.approx(2 * stats.t.sf(4.0 / se, 6))
    assert r.ci_low == pytest.approx(4.0 - stats.t.ppf(0.975, 6) * se)
    assert r.cohens_d == pytest.approx(4.0 / math.sqrt(5 / 3))
    assert r.hedges_g == pytest.approx(4.0 / math.sqrt(5 / 3) * (1 - 3 / (4 * 6 - 1)))


@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
def test_mean_test_matches_scipy_welch(spend_df, alternative):
    r = mean_test(spend_df, alternative=alternative, alpha=0.1)
    t_arm = spend_df.loc[spend_df["arm"] == "treatment", "spend"]
    c_arm = spend_df.loc[spend_df["arm"] == "control", "spend"]
    alt = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}[alternative]
    ref = stats.ttest_ind(t_arm, c_arm, equal_var=False, alternative=alt)
    assert r.t == pytest.approx(ref.statistic, rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.df == pytest.approx(ref.df, rel=1e-9)
    ci = ref.confidence_interval(0.9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r.diff == pytest.approx(t_arm.mean() - c_arm.mean())


def test_mean_test_errors(spend_df):
    bad = spend_df.copy()
    bad["spend"] = bad["spend"].astype(object)
    bad.loc[2, "spend"] = "n/a"
    with pytest.raises(WorkbookInputError, match=r"'spend'.*row 2"):
        mean_test(bad)
    with pytest.raises(WorkbookInputError, match="constant within each arm"):
        mean_test(spend_df.assign(spend=1.0))
    with pytest.raises(WorkbookInputError, match="missing column"):
        mean_test(spend_df, covariate="pre_spend")
    with pytest.raises(WorkbookInputError, match="must be different"):
        mean_test(spend_df, treatment="control")


# ---------------------------------------------------------------- CUPED
def test_cuped_hand_computed_and_input_untouched():
    df = pd.DataFrame({"spend": [3.0, 5.0, 7.0, 9.0], "pre_spend": [1.0, 2.0, 3.0, 4.0]})
    before = df.copy()
    out = cuped(df)
    pd.testing.assert_frame_equal(df, before)
    assert out.attrs["cuped_theta"] == pytest.approx(2.0)
    np.testing.assert_allclose(out["spend_cuped"], 6.0)
    assert out.attrs["cuped_variance_ratio"] == pytest.approx(0.0, abs=1e-12)


def test_cuped_theta_pooled_within_arms():
    # Within each arm y = x + const, but the arm offset is 100: the within-arm slope is 1,
    # while the slope over all rows is distorted by the offset.
    df = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3,
                       "pre_spend": [1.0, 2.0, 3.0, 2.0, 3.0, 4.0],
                       "spend": [1.0, 2.0, 3.0, 102.0, 103.0, 104.0]})
    assert cuped(df, group_col="arm").attrs["cuped_theta"] == pytest.approx(1.0)
    x, y = df["pre_spend"], df["spend"]
    assert cuped(df).attrs["cuped_theta"] == pytest.approx(np.cov(y, x)[0, 1] / x.var())


def test_cuped_reduces_variance_by_one_minus_rho_squared():
    sim = simulate_campaign(4000, 0.1, 0.0, random_state=11, pre_period_correlation=0.8, true_spend_lift=15.0)
    r_raw = mean_test(sim)
    r_adj = mean_test(sim, covariate="pre_spend")
    # Within-arm correlation of spend and pre_spend.
    centred = sim[["spend", "pre_spend"]] - sim.groupby("arm")[["spend", "pre_spend"]].transform("mean")
    rho = np.corrcoef(centred["spend"], centred["pre_spend"])[0, 1]
    assert r_adj.variance_ratio == pytest.approx(1 - rho**2, rel=1e-9)
    assert r_adj.variance_ratio < 0.5
    assert (r_adj.ci_high - r_adj.ci_low) < 0.75 * (r_raw.ci_high - r_raw.ci_low)
    # CUPED estimate = raw estimate - theta * (pre-period imbalance between arms).
    gx = sim.groupby("arm")["pre_spend"].mean()
    expected = r_raw.diff - r_adj.theta * (gx["treatment"] - gx["control"])
    assert r_adj.diff == pytest.approx(expected, rel=1e-9)
    table = cuped_comparison(sim)
    assert table.loc["cuped", "ci_width"] < table.loc["raw", "ci_width"]
    assert table.loc["cuped", "diff"] == pytest.approx(r_adj.diff)
    assert "CUPED" in r_adj.summary()


def test_cuped_is_unbiased_over_repeated_experiments():
    diffs_raw, diffs_adj = [], []
    for seed in range(60):
        sim = simulate_campaign(1000, 0.1, 0.0, random_state=seed, true_spend_lift=20.0)
        diffs_raw.append(mean_test(sim).diff)
        diffs_adj.append(mean_test(sim, covariate="pre_spend").diff)
    diffs_raw, diffs_adj = np.array(diffs_raw), np.array(diffs_adj)
    # Mean of 60 estimates; CUPED SE per run ~ 150 * 0.71 * sqrt(2/500) ~ 6.7 -> SE of mean ~ 0.9.
    assert diffs_adj.mean() == pytest.approx(20.0, abs=3.0)
    assert diffs_adj.std() < 0.85 * diffs_raw.std()


def test_cuped_errors():
    df = pd.DataFrame({"spend": [1.0, 2.0, 3.0], "pre_spend": [5.0, 5.0, 5.0]})
    with pytest.raises(WorkbookInputError, match="'pre_spend' does not vary"):
        cuped(df)
    with pytest.raises(WorkbookInputError, match="missing column"):
        cuped(df, pre_col="pre")


# ---------------------------------------------------------------- uplift / ROI
def test_uplift_by_segment_matches_per_segment_tests():
    df = pd.concat(
        [
            two_arm(2, 20, 8, 20).assign(segment="A"),
            two_arm(5, 20, 5, 20).assign(segment="B"),
            two_arm(30, 200, 45, 210).assign(segment="C"),
        ],
        ignore_index=True,
    )
    t = uplift_by_segment(df)
    assert list(t.index) == ["A", "B", "C", "All"]
    assert t.loc["A", "uplift"] == pytest.approx(0.3)
    assert t.loc["B", "uplift"] == pytest.approx(0.0)
    assert t.loc["All", "n_treatment"] == 250
    for seg in ["A", "B", "C"]:
        r = proportion_test(df[df["segment"] == seg])
        assert (t.loc[seg, "ci_low"], t.loc[seg, "ci_high"]) == pytest.approx((r.ci_low, r.ci_high))
        assert t.loc[seg, "p_value"] == pytest.approx(r.p_value)
    holm = multipletests(t["p_value"].iloc[:3], method="holm")[1]
    np.testing.assert_allclose(t["p_value_holm"].iloc[:3], holm)
    assert np.isnan(t.loc["All", "p_value_holm"])
    assert t.loc["All", "p_value"] == pytest.approx(proportion_test(df).p_value)


def test_uplift_by_segment_degenerate_segment_and_errors():
    df = pd.concat([two_arm(0, 10, 0, 10).assign(segment="none"),
                    two_arm(3, 30, 9, 30).assign(segment="x")], ignore_index=True)
    t = uplift_by_segment(df, total=False)
    assert np.isnan(t.loc["none", "p_value"]) and t.loc["none", "uplift"] == 0
    assert t.loc["x", "p_value_holm"] == pytest.approx(t.loc["x", "p_value"])
    df.loc[5, "segment"] = None
    with pytest.raises(WorkbookInputError, match="'segment'.*row 5"):
        uplift_by_segment(df)


def test_campaign_roi_hand_computed():
    df = pd.DataFrame({"arm": ["control"] * 4 + ["treatment"] * 4,
                       "converted": [0, 1, 0, 0, 1, 1, 0, 0],
                       "spend": [0.0, 100.0, 0.0, 0.0, 120.0, 100.0, 0.0, 0.0]})
    r = campaign_roi(df, coupon_cost=10, margin_rate=0.5).iloc[0]
    # Spend per member 25 vs 55 -> 30 * 4 treated = 120 CNY incremental revenue, 60 gross profit;
    # 2 coupons * 10 = 20 CNY cost; net 40; ROI 2; 1 incremental conversion.
    assert r["incremental_revenue"] == pytest.approx(120.0)
    assert r["incremental_gross_profit"] == pytest.approx(60.0)
    assert r["coupon_cost_total"] == pytest.approx(20.0)
    assert r["net_profit"] == pytest.approx(40.0)
    assert r["roi"] == pytest.approx(2.0)
    assert r["incremental_conversions"] == pytest.approx(1.0)
    assert r["redemptions_without_effect"] == pytest.approx(1.0)
    assert r["cost_per_incremental_conversion"] == pytest.approx(20.0)
    welch = mean_test(df)
    assert r["net_profit_ci_low"] == pytest.approx(welch.ci_low * 4 * 0.5 - 20)
    with pytest.raises(WorkbookInputError, match="margin"):
        campaign_roi(df, coupon_cost=10, margin_rate=40)
    with pytest.raises(WorkbookInputError, match="coupon_cost"):
        campaign_roi(df, coupon_cost=-1, margin_rate=0.4)


# ---------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    x_c=st.integers(0, 60), n_c=st.integers(60, 200),
    x_t=st.integers(0, 60), n_t=st.integers(60, 200),
)
def test_proportion_test_properties(x_c, n_c, x_t, n_t):
    assume(0 < x_c + x_t < n_c + n_t)
    r = proportion_test(two_arm(x_c, n_c, x_t, n_t))
    assert 0 <= r.p_value <= 1
    assert r.ci_low <= r.abs_lift <= r.ci_high
    # Swapping the arms flips the sign of z and of the interval.
    s = proportion_test(two_arm(x_t, n_t, x_c, n_c))
    assert s.z == pytest.approx(-r.z, abs=1e-9)
    assert (s.ci_low, s.ci_high) == pytest.approx((-r.ci_high, -r.ci_low), abs=1e-9)
