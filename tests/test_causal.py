"""Before/after vs difference-in-differences on hand-made and simulated store panels."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workbook.causal import (  # noqa: E402
    StandardErrorWarning,
    diff_in_diff,
    naive_before_after,
    parallel_trends_table,
    pre_trend_test,
    repurchase_rate_by_period,
)
from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.plotting.causal import plot_did  # noqa: E402

CHANGE = "2023-01-01"
MONTHLY_GROWTH = 0.004


def store_panel(effect=0.03, n_stores=40, n_months=24, pre_trend_gap=0.0, seed=0):
    """Monthly repurchase rates: store levels + common growth and seasonality + effect.

    The programme starts in month 12 (2023-01) in the first half of the stores,
    which also have a higher baseline (programme stores are not a random sample).
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2022-01-01", periods=n_months, freq="MS")
    store = np.repeat(np.arange(n_stores), n_months)
    t = np.tile(np.arange(n_months), n_stores)
    treated = store < n_stores // 2
    level = rng.normal(0.25, 0.03, n_stores)[store] + 0.02 * treated
    common = MONTHLY_GROWTH * t + 0.02 * np.sin(2 * np.pi * t / 12)
    post = t >= 12
    y = (level + common + effect * (treated & post) + pre_trend_gap * treated * t
         + rng.normal(0, 0.01, len(t)))
    return pd.DataFrame({
        "store_id": pd.Series(store).map("s{:02d}".format).to_numpy(),
        "period": periods[t],
        "treated": treated,
        "repurchase_rate": y,
    })


def test_did_hand_computed_2x2_unbalanced():
    d = pd.DataFrame({
        "treated": [1, 1, 1, 0, 0, 0, 0],
        "post": [0, 0, 1, 0, 1, 1, 1],
        "y": [1.0, 3.0, 6.0, 2.0, 3.0, 5.0, 7.0],
    })
    res = diff_in_diff(d, "y", "treated", post_col="post", unit_col=None)
    t_pre, t_post, c_pre, c_post = 2.0, 6.0, 2.0, 5.0
    expected = (t_post - t_pre) - (c_post - c_pre)
    assert res.summary["effect"].iloc[0] == pytest.approx(expected)
    assert res.means.loc["treated", "before"] == t_pre
    assert res.means.loc["control", "after"] == c_post
    assert res.means.loc["treated - control", "change"] == pytest.approx(expected)
    # Counterfactual: treated before + control change = 2 + 3.
    assert res.summary["counterfactual"].iloc[0] == pytest.approx(5.0)
    assert res.summary["relative_effect"].iloc[0] == pytest.approx(1 / 5)
    assert np.isnan(res.summary["n_clusters"].iloc[0])


def _four_stores(treated_after: float) -> pd.DataFrame:
    return pd.DataFrame({
        "store_id": ["t1", "t1", "t2", "t2", "c1", "c1", "c2", "c2"],
        "treated": [1, 1, 1, 1, 0, 0, 0, 0],
        "period": pd.to_datetime(["2024-01-01", "2024-03-01"] * 4),
        "rate": [0.20, 0.30, 0.22, treated_after, 0.25, 0.29, 0.27, 0.31],
    })


def test_did_standard_error_that_cannot_be_estimated_is_nan_with_a_warning():
    # Both treated stores rise by exactly 0.10: with four clusters the clustered variance
    # of the effect is zero up to rounding (statsmodels' square root gives NaN or ~1e-18).
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's bare sqrt warning must not reach the user
        with pytest.warns(StandardErrorWarning, match="标准误无法估计") as caught:
            res = diff_in_diff(_four_stores(0.32), "rate", "treated", change_date="2024-02-01")
    assert "too few units" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller's line, not into the package
    row = res.summary.iloc[0]
    assert row["effect"] == pytest.approx(0.06)
    assert np.isnan([row["std_error"], row["ci_lower"], row["ci_upper"], row["p_value"]]).all()
    # With some spread between the treated stores the same design has inference and no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = diff_in_diff(_four_stores(0.33), "rate", "treated", change_date="2024-02-01")
    row = res.summary.iloc[0]
    assert row["std_error"] > 0 and row["ci_lower"] < row["effect"] < row["ci_upper"] and 0 < row["p_value"] < 1


def test_did_recovers_effect_naive_is_biased_by_trend():
    d = store_panel(effect=0.03)
    did = diff_in_diff(d, "repurchase_rate", "treated", change_date=CHANGE)
    s = did.summary.iloc[0]
    assert s["ci_lower"] < 0.03 < s["ci_upper"]
    assert s["effect"] == pytest.approx(0.03, abs=0.01)
    assert s["n_clusters"] == 40 and s["n_obs"] == 960
    fe = diff_in_diff(d, "repurchase_rate", "treated", change_date=CHANGE, fixed_effects=True)
    # Balanced panel: two-way fixed effects give the same point estimate.
    assert fe.summary["effect"].iloc[0] == pytest.approx(s["effect"])
    assert fe.summary["ci_lower"].iloc[0] < 0.03 < fe.summary["ci_upper"].iloc[0]

    naive = naive_before_after(d, "repurchase_rate", CHANGE, treated_col="treated").iloc[0]
    # 12 months after vs 12 before: the seasonality averages out, the growth does not:
    # the naive estimate adds 12 months x 0.004 to the true effect.
    trend_bias = 12 * MONTHLY_GROWTH
    assert naive["effect"] == pytest.approx(0.03 + trend_bias, abs=0.01)
    assert naive["ci_lower"] > 0.03  # confidently wrong
    assert naive["relative_effect"] == pytest.approx(naive["effect"] / naive["mean_before"])


@pytest.mark.parametrize("fixed_effects", [False, True])
def test_placebo_covers_zero(fixed_effects):
    d = store_panel(effect=0.0, seed=4)
    s = diff_in_diff(d, "repurchase_rate", "treated", change_date=CHANGE,
                     fixed_effects=fixed_effects).summary.iloc[0]
    assert s["ci_lower"] < 0 < s["ci_upper"]
    assert s["p_value"] > 0.05


def test_parallel_trends_and_pre_trend_test():
    d = store_panel(effect=0.03)
    table = parallel_trends_table(d, "repurchase_rate", "treated", CHANGE)
    assert len(table) == 24 and table["post"].sum() == 12
    jan = d[d["period"] == "2022-01-01"]
    assert table.iloc[0]["treated"] == pytest.approx(jan.loc[jan.treated, "repurchase_rate"].mean())
    np.testing.assert_allclose(table["difference"], table["treated"] - table["control"])
    # Means table of the DiD agrees with averaging the per-period table (balanced panel).
    did = diff_in_diff(d, "repurchase_rate", "treated", change_date=CHANGE)
    post_diff = table.loc[table["post"], "difference"].mean()
    pre_diff = table.loc[~table["post"], "difference"].mean()
    assert did.summary["effect"].iloc[0] == pytest.approx(post_diff - pre_diff)

    ok = pre_trend_test(d, "repurchase_rate", "treated", CHANGE).iloc[0]
    assert ok["ci_lower"] < 0 < ok["ci_upper"] and ok["n_pre_periods"] == 12
    diverging = store_panel(effect=0.03, pre_trend_gap=0.003)
    bad = pre_trend_test(diverging, "repurchase_rate", "treated", CHANGE).iloc[0]
    assert bad["ci_lower"] < 0.003 < bad["ci_upper"] and bad["p_value"] < 0.01

    ax = plot_did(table, change_date=CHANGE)
    assert len(ax.get_lines()) == 4  # control, treated, counterfactual, change date
    plt.close("all")


def test_did_input_errors():
    d = store_panel(n_stores=4, n_months=14)
    with pytest.raises(WorkbookInputError, match="No rows for control units"):
        diff_in_diff(d[d.treated], "repurchase_rate", "treated", change_date=CHANGE)
    with pytest.raises(WorkbookInputError, match="either post_col or change_date"):
        diff_in_diff(d.assign(post=1), "repurchase_rate", "treated", change_date=CHANGE,
                     post_col="post")
    with pytest.raises(WorkbookInputError, match="'treated' must be True/False.*row 0 "):
        diff_in_diff(d.assign(treated=np.where(d.index == 0, 2, d.treated)), "repurchase_rate",
                     "treated", change_date=CHANGE)
    with pytest.raises(WorkbookInputError, match="change_date"):
        diff_in_diff(d, "repurchase_rate", "treated")
    with pytest.raises(WorkbookInputError, match="one side of the change"):
        naive_before_after(d, "repurchase_rate", "2030-01-01")
    with pytest.raises(WorkbookInputError, match="at least 3"):
        pre_trend_test(d, "repurchase_rate", "treated", "2022-03-01")


@settings(max_examples=25, deadline=None)
@given(
    unit_shift=st.lists(st.floats(-5, 5), min_size=6, max_size=6),
    period_shift=st.lists(st.floats(-5, 5), min_size=4, max_size=4),
)
def test_did_ignores_unit_and_period_shifts(unit_shift, period_shift):
    """Store levels and common period shocks cancel out of the DiD (balanced panel)."""
    d = store_panel(n_stores=6, n_months=4, seed=1)
    d["post"] = (d["period"] >= "2022-03-01").astype(int)
    base = diff_in_diff(d, "repurchase_rate", "treated", post_col="post").summary["effect"].iloc[0]
    store_idx = d["store_id"].str[1:].astype(int).to_numpy()
    period_idx = pd.factorize(d["period"], sort=True)[0]
    shifted = d.assign(repurchase_rate=d["repurchase_rate"] + np.array(unit_shift)[store_idx]
                       + np.array(period_shift)[period_idx])
    eff = diff_in_diff(shifted, "repurchase_rate", "treated", post_col="post").summary["effect"].iloc[0]
    assert eff == pytest.approx(base, abs=1e-9)


@pytest.fixture
def tx():
    rows = [
        ("a", "s1", "2024-01-03 09:00", 10.0, False),
        ("a", "s1", "2024-01-20 10:00", 12.0, False),
        ("b", "s1", "2024-01-05 10:00", 5.0, False),
        ("b", "s1", "2024-01-05 18:00", 6.0, False),  # same day: not a repurchase
        ("d", "s1", "2024-01-10 11:00", 8.0, False),
        ("d", "s1", "2024-01-12 11:00", -8.0, True),  # a return is not a purchase
        (None, "s1", "2024-01-15 11:00", 50.0, False),  # walk-in
        ("a", "s2", "2024-01-25 12:00", 20.0, False),
        ("a", "s1", "2024-02-02 12:00", 9.0, False),
        ("b", "s1", "2024-03-15 12:00", 7.0, False),
    ]
    df = pd.DataFrame(rows, columns=["member_id", "store_id", "timestamp", "amount", "is_return"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return df


def test_repurchase_rate_within_period(tx):
    r = repurchase_rate_by_period(tx)
    # Default analysis date 2024-03-16: March is incomplete and dropped.
    assert r[["store_id", "period"]].astype(str).values.tolist() == [
        ["s1", "2024-01-01"], ["s1", "2024-02-01"], ["s2", "2024-01-01"]]
    jan = r.iloc[0]
    assert (jan["n_buyers"], jan["n_repurchasers"]) == (3, 1)  # a yes, b same day, d no
    assert jan["repurchase_rate"] == pytest.approx(1 / 3)
    assert jan["n_purchases"] == 5 and jan["sales"] == pytest.approx(41.0)
    assert r.iloc[2]["repurchase_rate"] == 0.0  # a bought only once at s2
    full = repurchase_rate_by_period(tx, drop_incomplete=False)
    assert full["complete"].tolist() == [True, True, False, True]


def test_repurchase_rate_forward_window(tx):
    r = repurchase_rate_by_period(tx, window_days=30, analysis_date="2024-04-01")
    s1 = r[r["store_id"] == "s1"].set_index("period")
    # Jan: a returns on 01-20 (17 days), b only on 03-15 (70 days), d never.
    assert s1.loc["2024-01-01", "n_repurchasers"] == 1
    assert s1.loc["2024-01-01", "repurchase_rate"] == pytest.approx(1 / 3)
    # Feb needs follow-up to 03-31: complete by 04-01; March (to 04-30) is not.
    assert list(s1.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert s1.loc["2024-02-01", "repurchase_rate"] == 0.0
    with pytest.raises(WorkbookInputError, match="window_days"):
        repurchase_rate_by_period(tx, window_days=0)
    with pytest.raises(WorkbookInputError, match="'store_id' is missing.*row 1 "):
        repurchase_rate_by_period(tx.assign(store_id=np.where(tx.index == 1, None, tx.store_id)))
    assert "complete" not in tx.columns
