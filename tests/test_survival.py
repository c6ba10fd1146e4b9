"""Kaplan-Meier, log-rank, medians and Cox hazard ratios against hand and reference values."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.duration.survfunc import survdiff  # noqa: E402

from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.plotting.survival import plot_km  # noqa: E402
from workbook.survival import (  # noqa: E402
    activity_durations,
    cox_hazard_ratio,
    km_curves,
    logrank_test,
    median_survival,
    membership_durations,
    retention_at,
)


@pytest.fixture
def six():
    # Six members; the one leaving at day 3 and the one at day 6 are censored (still members).
    return pd.DataFrame({"duration_days": [2, 3, 3, 5, 6, 8], "event": [1, 1, 0, 1, 0, 1]})


def test_km_hand_computed(six):
    c = km_curves(six)
    assert c["time"].tolist() == [0, 2, 3, 5, 8]
    # S(2) = 5/6; S(3) = 5/6 * 4/5 (the censored day-3 member is still at risk at 3);
    # S(5) = 2/3 * 2/3 (3 at risk); S(8) = 0.
    np.testing.assert_allclose(c["survival"], [1, 5 / 6, 2 / 3, 4 / 9, 0])
    assert c["at_risk"].tolist() == [6, 6, 5, 3, 1]
    assert c["n_events"].tolist() == [0, 1, 1, 1, 1]
    assert (c["group"] == "all").all()
    # Greenwood variance at t=3: S^2 * (1/(6*5) + 1/(5*4)) = 1/27; log(-log) interval.
    s, se, z = 2 / 3, np.sqrt(1 / 27), stats.norm.ppf(0.975)
    half = z * se / (s * abs(np.log(s)))
    lower = np.exp(-np.exp(np.log(-np.log(s)) + half))
    upper = np.exp(-np.exp(np.log(-np.log(s)) - half))
    row = c.loc[c["time"] == 3].iloc[0]
    assert row["ci_lower"] == pytest.approx(lower)
    assert row["ci_upper"] == pytest.approx(upper)
    assert 0.19 < lower < 0.2 and 0.90 < upper < 0.91


def test_km_extends_to_last_follow_up_and_groups():
    d = pd.DataFrame({"duration_days": [1, 2, 3, 4, 10, 12],
                      "event": [True, False, False, False, False, False],
                      "follow_up": ["no", "no", "no", "yes", "yes", "yes"]})
    c = km_curves(d, group_col="follow_up")
    no = c[c["group"] == "no"]
    assert no["time"].tolist() == [0, 1, 3]
    np.testing.assert_allclose(no["survival"], [1, 2 / 3, 2 / 3])
    assert no["at_risk"].tolist() == [3, 3, 1]
    yes = c[c["group"] == "yes"]  # no events: flat at 1 until day 12
    assert yes["time"].tolist() == [0, 12] and yes["survival"].tolist() == [1.0, 1.0]
    r = retention_at(c, days=[1, 3, 5, 12])
    np.testing.assert_allclose(r.loc["no"], [2 / 3, 2 / 3, np.nan, np.nan])
    np.testing.assert_allclose(r.loc["yes"], [1, 1, 1, 1])
    ax = plot_km(c)
    assert len(ax.get_lines()) == 2
    assert ax.get_legend().get_title().get_text() == "教练回访"  # Chinese label of the group column
    plt.close("all")


def test_retention_at_step_lookup(six):
    r = retention_at(km_curves(six), days=[0, 2.5, 3, 7, 8, 9])
    assert list(r.columns) == ["day_0", "day_2.5", "day_3", "day_7", "day_8", "day_9"]
    np.testing.assert_allclose(r.loc["all"], [1, 5 / 6, 2 / 3, 4 / 9, 0, np.nan])
    with pytest.raises(WorkbookInputError, match="non-negative"):
        retention_at(km_curves(six), days=[-1])


def test_median_survival_hand_computed(six):
    m = median_survival(six)
    assert m.loc["all", "median"] == 5  # first time S(t) <= 0.5: S(5) = 4/9
    assert m.loc["all", "n"] == 6 and m.loc["all", "n_events"] == 4
    assert m.loc["all", "ci_lower"] <= 5 <= m.loc["all", "ci_upper"]
    never = median_survival(pd.DataFrame({"duration_days": [1, 5, 6], "event": [1, 0, 0]}))
    assert np.isnan(never.loc["all", "median"])


def two_groups(n=300, hazard_ratio=0.5, seed=5):
    rng = np.random.default_rng(seed)
    treat = np.repeat([0, 1], n)
    true_time = rng.exponential(120 / np.where(treat == 1, hazard_ratio, 1.0))
    censor = rng.uniform(30, 400, 2 * n)
    return pd.DataFrame({
        "duration_days": np.minimum(true_time, censor).round(),
        "event": true_time <= censor,
        "follow_up": treat.astype(bool),
    })


def test_logrank_matches_statsmodels_and_scipy():
    d = two_groups()
    r = logrank_test(d, group_col="follow_up").iloc[0]
    chisq, p = survdiff(d["duration_days"].to_numpy(), d["event"].to_numpy().astype(int),
                        d["follow_up"].to_numpy())
    assert r["statistic"] == pytest.approx(chisq)
    assert r["p_value"] == pytest.approx(p)
    assert r["df"] == 1
    # Independent implementation: scipy's log-rank z statistic squared.
    sp = stats.logrank(
        stats.CensoredData.right_censored(d.loc[d.follow_up, "duration_days"],
                                          ~d.loc[d.follow_up, "event"]),
        stats.CensoredData.right_censored(d.loc[~d.follow_up, "duration_days"],
                                          ~d.loc[~d.follow_up, "event"]),
    )
    assert r["statistic"] == pytest.approx(sp.statistic**2, rel=1e-6)
    assert r["p_value"] < 1e-4  # a halved hazard on 600 members is clearly detected


def test_logrank_placebo_not_significant():
    d = two_groups(hazard_ratio=1.0, seed=11)
    assert logrank_test(d, group_col="follow_up")["p_value"].iloc[0] > 0.05


def test_cox_recovers_hazard_ratio():
    d = two_groups(n=500, hazard_ratio=0.6, seed=2)
    hr = cox_hazard_ratio(d, ["follow_up"]).loc["follow_up"]
    assert hr["ci_lower"] < 0.6 < hr["ci_upper"]
    assert hr["ci_upper"] < 1
    assert hr["hazard_ratio"] == pytest.approx(np.exp(hr["coef"]))
    with pytest.raises(WorkbookInputError, match="at least one"):
        cox_hazard_ratio(d, [])


def test_input_errors(six):
    with pytest.raises(WorkbookInputError, match="negative durations at row 1 "):
        km_curves(six.assign(duration_days=[2, -3, 3, 5, 6, 8]))
    with pytest.raises(WorkbookInputError, match="'event' must be True/False.*row 2 "):
        km_curves(six.assign(event=[1, 1, 2, 1, 0, 1]))
    with pytest.raises(WorkbookInputError, match="only one group"):
        logrank_test(six.assign(group="a"))
    with pytest.raises(WorkbookInputError, match="missing column"):
        km_curves(six, group_col="store")


def test_membership_durations_hand_computed():
    m = pd.DataFrame({
        "join_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-15"]),
        "end_date": pd.to_datetime(["2024-01-31 18:00", None, "2024-06-01 00:00", "2024-02-15 00:00"], format="ISO8601"),
        "cancelled": [True, False, True, False],
    })
    d = membership_durations(m, at="2024-04-01")
    assert d["duration_days"].tolist() == [30, 60, 31, 31]
    assert d["event"].tolist() == [True, False, False, True]  # end after 'at' = not yet
    d2 = membership_durations(m, observed_col="cancelled", at="2024-04-01")
    assert d2["event"].tolist() == [True, False, False, False]  # row 3: censored at its end
    assert "duration_days" not in m.columns  # input untouched
    assert membership_durations(m).attrs["at"] == pd.Timestamp("2024-06-02")
    with pytest.raises(WorkbookInputError, match="before 'join_date' at row 1 "):
        membership_durations(m.assign(end_date=pd.to_datetime(
            ["2024-01-31", "2024-01-01", None, None])))
    with pytest.raises(WorkbookInputError, match="after the analysis date"):
        membership_durations(m, at="2024-01-20")


def test_activity_durations_hand_computed():
    tx = pd.DataFrame({
        "member_id": ["a", "a", "b", "b", "c"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-03-01", "2024-05-20",
                                     "2024-05-30 12:00"], format="ISO8601"),
        "amount": [10.0, 20.0, 5.0, 7.0, -3.0],
    })
    d = activity_durations(tx, inactivity_days=90, analysis_date="2024-06-01")
    assert list(d.index) == ["a", "b"]  # c only returned something
    assert d.loc["a", "event"] and d.loc["a", "duration_days"] == 40  # lost after 2024-02-10
    assert not d.loc["b", "event"] and d.loc["b", "duration_days"] == 92  # censored at 06-01
    with pytest.raises(WorkbookInputError, match="inactivity_days"):
        activity_durations(tx, inactivity_days=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=30))
def test_km_properties(data):
    d = pd.DataFrame(data, columns=["duration_days", "event"])
    c = km_curves(d)
    s = c["survival"].to_numpy()
    assert (np.diff(s) <= 1e-12).all() and (s >= 0).all() and (s <= 1).all()
    assert (c["ci_lower"] <= s + 1e-12).all() and (c["ci_upper"] >= s - 1e-12).all()
    assert c["time"].iloc[-1] == d["duration_days"].max()
    if d["event"].all():
        # Without censoring KM is the empirical survival function 1 - ECDF.
        events = c[c["n_events"] > 0]
        ecdf = np.array([(d["duration_days"] <= t).mean() for t in events["time"]])
        np.testing.assert_allclose(events["survival"], 1 - ecdf, atol=1e-12)
