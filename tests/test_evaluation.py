"""Tests of workbook.evaluation (holdout evaluation) and workbook.plotting.evaluation.

Hand computations on tiny data, and the data behind ``lifetimes``' plotting helpers
(``calibration_and_holdout_data``, ``expected_cumulative_transactions``,
``probability_of_n_purchases_up_to_time``) on CDNOW.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from workbook import evaluation  # noqa: E402
from workbook.clv import (  # noqa: E402
    BetaGeoModel,
    ParetoNBDModel,
    calibration_holdout_split,
    load_cdnow_transactions,
)
from workbook.clv.cdnow import CALIBRATION_END, HOLDOUT_END, PUBLISHED_BGNBD_PARAMS  # noqa: E402
from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.plotting import evaluation as eval_plots  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes imports deprecated pandas/scipy names
    from lifetimes import BetaGeoFitter  # noqa: E402
    from lifetimes.utils import calibration_and_holdout_data, expected_cumulative_transactions  # noqa: E402


def _bgnbd(time_unit="W", params=PUBLISHED_BGNBD_PARAMS):
    m = BetaGeoModel(time_unit=time_unit)
    m.params_ = pd.Series(params)
    return m


def _days(params=PUBLISHED_BGNBD_PARAMS):
    """The published weekly CDNOW estimates in days (alpha scales with the unit)."""
    return {**params, "alpha": params["alpha"] * 7}


def _lifetimes_bgnbd(params):
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(params)
    return bgf


@pytest.fixture(scope="module")
def cdnow_tx():
    return load_cdnow_transactions()


@pytest.fixture
def tiny_tx():
    return pd.DataFrame({
        "member_id": ["a", "a", "a", "b", "c", "c", "d"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-20", "2024-01-03",
                                     "2024-01-05", "2024-01-05 18:00", "2024-01-18"], format="ISO8601"),
        "amount": [10.0, 20.0, 8.0, 5.0, 7.0, 3.0, 9.0],
    })


@pytest.fixture
def tiny_split():
    return pd.DataFrame({"frequency": [0, 0, 2, 5], "recency": [0.0, 0.0, 20.0, 35.0],
                         "T": [38.0, 30.0, 38.0, 38.0], "frequency_holdout": [0, 1, 2, 4],
                         "duration_holdout": [13.0] * 4})


# --------------------------------------------------------------- tracking table
def test_tracking_table_hand_computed(tiny_tx):
    m = _bgnbd("D", _days())
    table = evaluation.tracking_table(m, tiny_tx, calibration_end="2024-01-15", holdout_end="2024-01-22")
    # d first buys on Jan 18 (holdout period): not one of the fitted members.
    # Daily grid: c's two receipts on Jan 5 are one purchase day.  Repeats: a on Jan 9, Jan 20.
    assert table["t"].tolist() == list(range(1, 22))
    assert table.loc[table["date"] == "2024-01-09", "actual"].item() == 0
    assert table.loc[table["date"] == "2024-01-10", "actual"].item() == 1
    assert table["actual"].iloc[-1] == 2
    assert (table["window"] == "calibration").sum() == 14
    # Predicted: a (first Jan 1), b (Jan 3), c (Jan 5) each contribute E[X(age)].
    ex = m.expected_purchases_population
    expected = sum(float(ex([max(21 - s, 0)]).iloc[0]) for s in (0, 2, 4))
    assert table["predicted"].iloc[-1] == pytest.approx(expected)
    assert table["predicted"].iloc[0] == pytest.approx(float(ex([1]).iloc[0]))  # only a has joined
    # Continuous grid: c's second receipt on Jan 5 is a repeat purchase.
    cont = evaluation.tracking_table(m, tiny_tx, calibration_end="2024-01-15", holdout_end="2024-01-22",
                                     grid="continuous")
    assert cont["actual"].iloc[-1] == 3


def test_tracking_table_matches_lifetimes(cdnow_tx):
    params = _days()
    days = 120
    ours = evaluation.tracking_table(_bgnbd("D", params), cdnow_tx, calibration_end=CALIBRATION_END,
                                     holdout_end=HOLDOUT_END)
    theirs = expected_cumulative_transactions(_lifetimes_bgnbd(params), cdnow_tx, "timestamp", "member_id", t=days)
    # Row k of ours is the end of day k; lifetimes' row k - 1 is the same date.
    np.testing.assert_array_equal(ours["actual"].iloc[:days].to_numpy(), theirs["actual"].to_numpy())
    np.testing.assert_allclose(ours["predicted"].iloc[:days].to_numpy(), theirs["predicted"].to_numpy(), rtol=1e-10)


def test_tracking_table_several_models(cdnow_tx):
    bg = _bgnbd()
    pnbd = ParetoNBDModel()
    pnbd.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    table = evaluation.tracking_table({"BG/NBD": bg, "Pareto/NBD": pnbd}, cdnow_tx,
                                      calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    assert set(table["model"]) == {"BG/NBD", "Pareto/NBD"}
    assert len(table) == 2 * 78
    # Fader, Hardie & Lee (2005), figure 3: both models track the 78 weeks closely
    # (the cumulative total after 78 weeks within 5% of the actual repeat purchases,
    # which are the calibration plus the holdout purchases of the split).
    split = calibration_holdout_split(cdnow_tx, CALIBRATION_END, HOLDOUT_END)
    last = table.groupby("model")[["actual", "predicted"]].last()
    assert (last["actual"] == split["frequency"].sum() + split["frequency_holdout"].sum()).all(), last
    assert ((last["predicted"] / last["actual"] - 1).abs() < 0.05).all(), last


def test_tracking_table_rejects_bad_dates(tiny_tx):
    with pytest.raises(WorkbookInputError, match="must be after"):
        evaluation.tracking_table(_bgnbd(), tiny_tx, calibration_end="2024-01-15", holdout_end="2024-01-10")
    with pytest.raises(WorkbookInputError, match="not a transaction model"):
        evaluation.tracking_table(object(), tiny_tx, calibration_end="2024-01-15")


# ------------------------------------------------- split and conditional expectation
def test_split_matches_lifetimes_calibration_and_holdout_data(cdnow_tx):
    ours = calibration_holdout_split(cdnow_tx, CALIBRATION_END, HOLDOUT_END, time_unit="D")
    theirs = calibration_and_holdout_data(
        cdnow_tx, "member_id", "timestamp", calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30", freq="D",
        monetary_value_col="amount",  # without a value column lifetimes 0.11.3 fails on pandas 2+
    ).loc[ours.index]
    np.testing.assert_array_equal(ours["frequency"], theirs["frequency_cal"])
    np.testing.assert_array_equal(ours["recency"], theirs["recency_cal"])
    # lifetimes measures T to the start of the last calibration day, as Hardie does.
    np.testing.assert_array_equal(ours["T"] - 1, theirs["T_cal"])
    np.testing.assert_array_equal(ours["frequency_holdout"], theirs["frequency_holdout"])
    np.testing.assert_array_equal(ours["duration_holdout"], theirs["duration_holdout"])


def test_conditional_expectation_matches_lifetimes_conditional_means(cdnow_tx):
    split = calibration_holdout_split(cdnow_tx, CALIBRATION_END, HOLDOUT_END, time_unit="W")
    table = evaluation.conditional_expectation_table(_bgnbd(), split, max_frequency=7)
    bgf = _lifetimes_bgnbd(PUBLISHED_BGNBD_PARAMS)
    pred = bgf.conditional_expected_number_of_purchases_up_to_time(
        split["duration_holdout"], split["frequency"], split["recency"], split["T"])
    group = np.minimum(split["frequency"], 7)
    np.testing.assert_allclose(table["predicted"], pred.groupby(group).mean().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(table["actual"], split["frequency_holdout"].groupby(group).mean().to_numpy())
    assert table["n_members"].sum() == len(split)


# --------------------------------------------------------------- histogram
def test_calibration_histogram_matches_lifetimes_pmf(tiny_split):
    params = PUBLISHED_BGNBD_PARAMS
    h = evaluation.purchase_count_histogram(_bgnbd(params=params), tiny_split, period="calibration",
                                            max_purchases=3)
    bgf = _lifetimes_bgnbd(params)
    # Ages 38 and 30 weeks are whole days, so no rounding happens here.
    probs = np.array([[bgf.probability_of_n_purchases_up_to_time(T, n) for n in range(3)]
                      for T in tiny_split["T"]])
    expected = np.r_[probs.sum(axis=0), len(tiny_split) - probs.sum()]
    np.testing.assert_allclose(h["expected"], expected, rtol=1e-8)
    assert h["actual"].tolist() == [2, 0, 1, 1]
    assert h["purchases"].tolist() == ["0", "1", "2", "3+"]


def test_holdout_histogram_mean_equals_conditional_expectation(tiny_split):
    m = _bgnbd()
    h = evaluation.purchase_count_histogram(m, tiny_split, max_purchases=60)
    assert h["expected"].sum() == pytest.approx(len(tiny_split))
    assert h["actual"].tolist()[:5] == [1, 1, 1, 0, 1]
    # The mean of the distribution is the conditional expectation E[X | history].
    x, t_x, T = (tiny_split[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    mean = m.conditional_expected_purchases(np.float64(13.0), x, t_x, T).sum()
    assert (np.arange(61) * h["expected"].to_numpy()).sum() == pytest.approx(mean, rel=1e-6)


def test_histogram_rejects_bad_arguments(tiny_split):
    with pytest.raises(WorkbookInputError, match="period="):
        evaluation.purchase_count_histogram(_bgnbd(), tiny_split, period="future")
    with pytest.raises(WorkbookInputError, match="several holdout durations"):
        evaluation.purchase_count_histogram(_bgnbd(), tiny_split.assign(duration_holdout=[13.0, 13, 13, 12]))


# --------------------------------------------------------------- member errors
def test_holdout_errors_hand_computed(tiny_split):
    m = _bgnbd()
    table = evaluation.holdout_errors({"bg": m}, tiny_split)
    x, t_x, T = (tiny_split[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    pred = m.conditional_expected_purchases(np.float64(13.0), x, t_x, T)
    err = pred - tiny_split["frequency_holdout"].to_numpy()
    row = table.loc["bg"]
    assert row["mae"] == pytest.approx(np.abs(err).mean())
    assert row["rmse"] == pytest.approx(np.sqrt((err ** 2).mean()))
    assert row["actual_total"] == 7
    assert row["total_error"] == pytest.approx(pred.sum() / 7 - 1)


def test_holdout_errors_refuse_other_time_unit(tiny_split):
    split = tiny_split.copy()
    split.attrs["time_unit"] = "D"
    with pytest.raises(WorkbookInputError, match="time unit"):
        evaluation.holdout_errors(_bgnbd("W"), split)


# ------------------------------------------------------------- ranking metrics
def test_gini_of_binary_outcome_is_two_auc_minus_one():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(int)
    score = np.round(0.3 * y + rng.random(500), 2)  # rounded: many ties
    g = evaluation.gini(y, score)
    assert g["normalized"] == pytest.approx(2 * roc_auc_score(y, score) - 1, abs=1e-12)


def test_gini_against_google_lifetime_value_formula():
    # google/lifetime_value: raw = 2 * sum(cumulative share) / n - 1 (rectangles),
    # normalized = raw / raw of the ground-truth ranking.  Ours is the trapezoid area:
    # raw is exactly 1/n less; the ranking is the same.
    rng = np.random.default_rng(1)
    y = rng.gamma(0.5, 100, size=200)
    pred = y * rng.lognormal(0, 0.8, size=200)
    n = len(y)

    def google_raw(order_by):
        cum = np.cumsum(y[np.argsort(-order_by)]) / y.sum()
        return 2 * cum.sum() / n - 1

    g = evaluation.gini(y, pred)
    assert g["raw"] == pytest.approx(google_raw(pred) - 1 / n)
    assert g["perfect"] == pytest.approx(google_raw(y) - 1 / n)
    assert 0.3 < g["normalized"] < 1


def test_gini_is_one_for_perfect_and_invariant_to_row_order():
    y = np.array([5.0, 0.0, 2.0, 0.0, 9.0])
    assert evaluation.gini(y, y)["normalized"] == pytest.approx(1.0)
    score = np.array([1.0, 0.0, 1.0, 0.0, 2.0])  # ties between rows 0 and 2
    perm = np.array([2, 4, 0, 3, 1])
    assert evaluation.gini(y, score)["raw"] == pytest.approx(evaluation.gini(y[perm], score[perm])["raw"])


def test_gain_curve_hand_computed():
    curve = evaluation.gain_curve([0.0, 10.0, 30.0, 0.0], [0.1, 0.5, 0.9, 0.1])
    np.testing.assert_allclose(curve["model"], [0, 0.75, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(curve["share_of_members"], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(curve["perfect"], curve["model"])


def test_decile_table_hand_computed():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 0, 1, 1], dtype=float)
    p = np.arange(10) / 10  # decile 1 = the highest score = row 9
    t = evaluation.decile_table(y, p, n_groups=5)
    assert t["n_members"].tolist() == [2] * 5
    np.testing.assert_allclose(t["mean_outcome"], [1.0, 0.5, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(t["lift"], [2.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(t["mean_prediction"], [0.85, 0.65, 0.45, 0.25, 0.05])
    np.testing.assert_allclose(t["share_of_actual"], [0.4, 0.2, 0.2, 0.2, 0.0])
    assert t["decile_mape"].iloc[0] == pytest.approx(0.15)
    assert np.isnan(t["decile_mape"].iloc[-1])


def test_decile_table_aligns_series_and_rejects_bad_input():
    y = pd.Series([1.0, 0.0, 2.0], index=["a", "b", "c"])
    p = pd.Series([0.2, 0.9, 0.5], index=["c", "b", "a"])
    t = evaluation.decile_table(y, p, n_groups=3)
    assert t["mean_outcome"].tolist() == [0.0, 1.0, 2.0]  # b (0.9), a (0.5), c (0.2)
    with pytest.raises(WorkbookInputError, match="finite"):
        evaluation.decile_table([1.0, np.nan], [0.1, 0.2], n_groups=2)
    with pytest.raises(WorkbookInputError, match="n_groups"):
        evaluation.decile_table([1.0, 2.0], [0.1, 0.2], n_groups=5)
    with pytest.raises(WorkbookInputError, match="different members"):
        evaluation.decile_table(y, p.rename({"a": "z"}))


# --------------------------------------------------------------- plots
@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def test_plots_return_axes_with_chinese_labels(cdnow_tx, tiny_split, close_figures):
    bg = _bgnbd()
    tracking = evaluation.tracking_table(bg, cdnow_tx, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    ax = eval_plots.plot_tracking(data=tracking)
    assert "累计" in ax.get_ylabel()
    assert len(ax.get_legend().get_texts()) >= 2
    ax = eval_plots.plot_conditional_expectation(data=evaluation.conditional_expectation_table(bg, tiny_split))
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"
    ax = eval_plots.plot_purchase_counts(data=evaluation.purchase_count_histogram(bg, tiny_split, max_purchases=3))
    assert "会员" in ax.get_ylabel()
    y, p = np.array([0.0, 3, 0, 5, 1]), np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    ax = eval_plots.plot_gain_curve(data=evaluation.gain_curve(y, p))
    assert len(ax.get_lines()) == 3
    fig, given = plt.subplots()
    assert eval_plots.plot_decile_lift(data=evaluation.decile_table(y, p, n_groups=5), ax=given) is given
