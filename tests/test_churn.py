"""Churn labels, leakage-free features, the time split, the model and budgeted selection."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from workbook.churn import (  # noqa: E402
    ChurnModel,
    calibration_table,
    churn_features,
    churn_labels,
    churn_metrics,
    select_for_retention,
    time_split,
)
from workbook.errors import WorkbookInputError  # noqa: E402
from workbook.plotting.churn import (  # noqa: E402
    plot_budget_curve,
    plot_calibration,
    plot_roc_pr,
)

CUTOFF = pd.Timestamp("2024-04-01")


@pytest.fixture
def tx():
    rows = [
        # member, timestamp, amount, discount, channel, is_return
        ("a", "2024-01-10 10:00", 100.0, 0.0, "offline", False),
        ("a", "2024-03-20 12:00", 60.0, 20.0, "online", False),
        ("a", "2024-04-15 09:00", 30.0, 0.0, "offline", False),  # future: keeps a
        ("b", "2024-03-01 15:00", 50.0, 0.0, "offline", False),
        ("b", "2024-04-01 00:00", 40.0, 0.0, "online", False),  # exactly at cutoff: future
        ("c", "2023-02-01 11:00", 80.0, 0.0, "offline", False),  # lapsed > 365 days
        ("d", "2023-10-15 16:00", 30.0, 10.0, "offline", False),
        ("d", "2024-02-01 16:00", 70.0, 10.0, "offline", False),
        ("d", "2024-02-10 16:00", -70.0, 0.0, "offline", True),  # return
        ("d", "2024-04-05 10:00", -30.0, 0.0, "offline", True),  # future return: not a purchase
        ("d", "2024-05-01 10:00", 25.0, 0.0, "offline", False),  # day 30: outside horizon
        (None, "2024-03-15 10:00", 99.0, 0.0, "offline", False),  # walk-in
    ]
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "amount", "discount", "channel",
                                     "is_return"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    df["store_id"] = "s1"
    return df


@pytest.fixture
def members():
    return pd.DataFrame(
        {
            "member_id": ["a", "b", "c", "d", "e"],
            "join_date": pd.to_datetime(["2023-12-01", "2024-03-01", "2022-01-01", "2023-10-01",
                                         "2024-06-01"]),
            "birth_date": pd.to_datetime(["1990-06-01", "2000-04-01", "1980-01-01", "1975-12-31",
                                          "1999-01-01"]),
            "acquisition_channel": ["app", "store_walk_in", "app", "referral", "ecommerce"],
            "gender": ["F", "M", "F", "F", "M"],
            "tier": ["gold", "member", "member", "silver", "member"],
        }
    )


def test_labels_hand_computed(tx):
    y = churn_labels(tx, analysis_date=CUTOFF, horizon_days=30)
    assert list(y.index) == ["a", "b", "d"]  # c lapsed, walk-in dropped
    assert y["churned"].to_dict() == {"a": False, "b": False, "d": True}
    assert y["n_purchases_horizon"].to_dict() == {"a": 1, "b": 1, "d": 0}
    assert y.attrs["cutoff"] == CUTOFF
    # With any purchase ever: c is included and churned; a 31-day horizon catches d's purchase.
    y_all = churn_labels(tx, analysis_date=CUTOFF, horizon_days=31, active_window_days=None)
    assert y_all["churned"].to_dict() == {"a": False, "b": False, "c": True, "d": False}


def test_labels_refuse_window_past_data(tx):
    with pytest.raises(WorkbookInputError, match="ends after the data"):
        churn_labels(tx, analysis_date=CUTOFF, horizon_days=60)
    with pytest.raises(WorkbookInputError, match="horizon_days"):
        churn_labels(tx, analysis_date=CUTOFF, horizon_days=0)
    with pytest.raises(WorkbookInputError, match="cutoff"):
        churn_labels(tx, analysis_date="not a date")
    with pytest.raises(WorkbookInputError, match="missing column"):
        churn_labels(tx.drop(columns="amount"), analysis_date=CUTOFF, horizon_days=30)


def test_features_hand_computed(tx, members):
    X = churn_features(tx, analysis_date=CUTOFF, members=members)
    assert list(X.index) == ["a", "b", "d"]
    a, b, d = X.loc["a"], X.loc["b"], X.loc["d"]
    # a: purchases 2024-01-10 and 2024-03-20 12:00 before the cutoff.
    assert a["recency_days"] == 11  # 11.5 days: whole elapsed days
    assert a["n_purchases"] == 2
    assert a["purchases_30d"] == 1 and a["purchases_90d"] == 2 and a["purchases_180d"] == 2
    assert a["spend_30d"] == 60.0 and a["spend_90d"] == 160.0
    assert a["purchase_trend_90d"] == 2  # 2 in the last 90 days, 0 in the 90 before
    assert a["mean_interpurchase_days"] == pytest.approx(70 + 2 / 24)
    assert a["share_online"] == pytest.approx(0.5)
    assert a["discount_share"] == pytest.approx(20 / 180)
    assert a["membership_days"] == 122  # 2023-12-01 -> 2024-04-01
    assert a["age_years"] == 33
    # b: one purchase; the cutoff-midnight purchase is not a feature.
    assert b["n_purchases"] == 1 and b["share_online"] == 0.0
    assert np.isnan(b["mean_interpurchase_days"])
    assert b["age_years"] == 24
    # d: two purchases, one return: net spend and trend.
    assert d["n_purchases"] == 2 and d["n_returns"] == 1
    assert d["monetary_total"] == pytest.approx(30.0)
    assert d["spend_90d"] == pytest.approx(0.0)  # 70 bought, 70 returned
    assert d["purchases_90d"] == 1 and d["purchases_180d"] == 2
    assert d["purchase_trend_90d"] == 1 - 1
    assert d["discount_share"] == pytest.approx(20 / 120)
    # One-hots from all categories of the members table; tier never used (end-of-period value).
    assert {"acquisition_channel_app", "acquisition_channel_ecommerce", "gender_F"} <= set(X.columns)
    assert not any(c.startswith("tier") for c in X.columns)
    assert X.loc["d", "acquisition_channel_referral"] == 1.0
    assert X.loc["d", "acquisition_channel_app"] == 0.0
    assert (X.dtypes == "float64").all()


def test_features_ignore_the_future(tx, members):
    """Leakage check: rows at or after the cutoff never change the features."""
    X = churn_features(tx, analysis_date=CUTOFF, members=members)
    future = tx["timestamp"] >= CUTOFF
    changed = tx.copy()
    changed.loc[future, "amount"] = 1e6
    changed.loc[future, "channel"] = "online"
    X_changed = churn_features(changed, analysis_date=CUTOFF, members=members)
    X_past = churn_features(tx.loc[~future], analysis_date=CUTOFF, members=members)
    pd.testing.assert_frame_equal(X, X_changed)
    pd.testing.assert_frame_equal(X, X_past)


def test_features_do_not_modify_input(tx, members):
    before_tx, before_m = tx.copy(), members.copy()
    churn_features(tx, analysis_date=CUTOFF, members=members)
    pd.testing.assert_frame_equal(tx, before_tx)
    pd.testing.assert_frame_equal(members, before_m)


def test_features_errors(tx, members):
    with pytest.raises(WorkbookInputError, match="duplicated 'member_id'"):
        churn_features(tx, analysis_date=CUTOFF, members=pd.concat([members, members.iloc[:1]]))
    with pytest.raises(WorkbookInputError, match="discount"):
        churn_features(tx.assign(discount="ten"), analysis_date=CUTOFF)
    with pytest.raises(WorkbookInputError, match="join_date"):
        churn_features(tx, analysis_date=CUTOFF, members=members.assign(join_date="2024-01-01"))
    with pytest.raises(WorkbookInputError, match=r"missing column\(s\) \['segment'\]"):
        churn_features(tx, analysis_date=CUTOFF, members=members, categorical_cols=["segment"])


def test_time_split_no_leakage(tx):
    split = time_split(tx, analysis_dates=("2024-03-01", "2024-04-01"), horizon_days=30)
    # Train labels: window [03-01, 03-31): a buys 03-20; b buys at 03-01 15:00, d nothing.
    assert split.y_train.to_dict() == {"a": 0, "d": 1}
    assert split.y_test.to_dict() == {"a": 0, "b": 0, "d": 1}
    assert list(split.X_test.columns) == list(split.X_train.columns)
    assert split.X_train.attrs["cutoff"] == pd.Timestamp("2024-03-01")
    with pytest.raises(WorkbookInputError, match="Leakage"):
        time_split(tx, analysis_dates=("2024-03-15", "2024-04-01"), horizon_days=30)
    with pytest.raises(WorkbookInputError, match="pair"):
        time_split(tx, analysis_dates="2024-03-01", horizon_days=30)


def test_churn_metrics_hand_computed():
    y, p = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    m = churn_metrics(y, p, name="toy").loc["toy"]
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 (churner, stayer) pairs ordered right
    assert m["average_precision"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert m["brier_score"] == pytest.approx((0.01 + 0.16 + 0.65**2 + 0.04) / 4)
    expected_ll = -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    assert m["log_loss"] == pytest.approx(expected_ll)
    assert m["base_rate"] == 0.5 and m["n"] == 4
    with pytest.raises(WorkbookInputError, match="only one class"):
        churn_metrics([1, 1], [0.2, 0.3])
    with pytest.raises(WorkbookInputError, match=r"probabilities in \[0, 1\].*row 1 "):
        churn_metrics([0, 1], [0.2, 1.3])
    with pytest.raises(WorkbookInputError, match="0/1"):
        churn_metrics([0, 2], [0.2, 0.3])


def simulate_members(n=1500, seed=3):
    """Purchases from a Poisson process that stops at an exponential dropout time.

    Who has dropped out cannot buy again, so recency predicts churn.
    """
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-01-01")
    span = (end - start).days
    rate = rng.gamma(2.0, 1 / 40, n)  # purchases per day, mean 1 per 20 days
    birth = rng.uniform(0, 200, n)
    death = birth + rng.exponential(300, n)
    alive_days = np.clip(np.minimum(death, span) - birth, 0, None)
    counts = rng.poisson(rate * alive_days) + 1
    member = np.repeat(np.arange(n), counts)
    offset = birth[member] + rng.uniform(0, 1, counts.sum()) * np.maximum(alive_days[member], 1)
    ts = start + pd.to_timedelta(np.minimum(offset, span - 0.01), unit="D")
    return pd.DataFrame(
        {
            "member_id": pd.Series(member).map("m{:05d}".format).to_numpy(),
            "timestamp": ts,
            "amount": np.round(rng.gamma(3, 30, counts.sum()), 2),
            "channel": np.where(rng.random(counts.sum()) < 0.3, "online", "offline"),
            "is_return": np.zeros(counts.sum(), dtype=bool),
        }
    )


@pytest.fixture(scope="module")
def sim_split():
    tx = simulate_members()
    return time_split(tx, analysis_dates=("2023-06-01", "2023-09-01"), horizon_days=90)


@pytest.mark.parametrize("kind", ["hgb", "logistic"])
def test_model_learns_recency_signal(sim_split, kind):
    s = sim_split
    assert 0.2 < s.y_test.mean() < 0.8
    model = ChurnModel(kind, random_state=0).fit(s.X_train, s.y_train)
    metrics = model.evaluate(s.X_test, s.y_test)
    assert metrics.index[0] == kind
    assert metrics["roc_auc"].iloc[0] > 0.75
    assert metrics["average_precision"].iloc[0] > metrics["base_rate"].iloc[0] + 0.1
    # Recency alone already carries the signal the simulation planted.
    assert roc_auc_score(s.y_test, s.X_test["recency_days"]) > 0.7
    # Deterministic given the seed.
    again = ChurnModel(kind, random_state=0).fit(s.X_train, s.y_train).predict_proba(s.X_test)
    pd.testing.assert_series_equal(model.predict_proba(s.X_test), again)


def test_model_checks_inputs(sim_split):
    s = sim_split
    with pytest.raises(WorkbookInputError, match="not fitted"):
        ChurnModel().predict_proba(s.X_test)
    with pytest.raises(WorkbookInputError, match="kind"):
        ChurnModel("forest").fit(s.X_train, s.y_train)
    model = ChurnModel("logistic").fit(s.X_train, s.y_train)
    with pytest.raises(WorkbookInputError, match="recency_days"):
        model.predict_proba(s.X_test.drop(columns="recency_days"))
    with pytest.raises(WorkbookInputError, match="non-numeric"):
        ChurnModel().fit(s.X_train.assign(city="sh"), s.y_train)
    imp = model.feature_importance(s.X_test, s.y_test, n_repeats=2)
    assert imp["importance"].is_monotonic_decreasing


def test_calibration_table_matches_sklearn(sim_split):
    s = sim_split
    p = ChurnModel("logistic").fit(s.X_train, s.y_train).predict_proba(s.X_test)
    table = calibration_table(s.y_test, p, n_bins=8)
    prob_true, prob_pred = calibration_curve(s.y_test, p, n_bins=8, strategy="quantile")
    np.testing.assert_allclose(table["observed_rate"], prob_true)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred)
    assert table["n"].sum() == len(p)
    # Counts agree with the bins: count-weighted means give back the overall means.
    assert np.average(table["observed_rate"], weights=table["n"]) == pytest.approx(s.y_test.mean())
    assert np.average(table["mean_predicted"], weights=table["n"]) == pytest.approx(p.mean())
    ax = plot_calibration(table)
    assert ax.get_ylabel().startswith("实际流失率")
    axes = plot_roc_pr(s.y_test, {"model": p, "recency": s.X_test["recency_days"] / 365})
    assert axes[0].get_legend().get_texts()[0].get_text().startswith("model (AUC")
    plt.close("all")


def test_calibration_table_uniform_hand_computed():
    t = calibration_table([0, 0, 1, 1, 1], [0.05, 0.15, 0.12, 0.8, 0.9], n_bins=2,
                          strategy="uniform")
    assert t["n"].tolist() == [3, 2]
    assert t["observed_rate"].tolist() == pytest.approx([1 / 3, 1.0])
    assert t["mean_predicted"].tolist() == pytest.approx([0.32 / 3, 0.85])


def test_select_for_retention_hand_computed():
    p = pd.Series({"a": 0.9, "b": 0.5, "c": 0.1, "d": 0.05})
    v = pd.Series({"a": 100.0, "b": 400.0, "c": 1000.0, "d": 100.0})
    sel = select_for_retention(p, v, budget=25, cost_per_contact=10, save_rate=0.5)
    # gains: a 45-10=35, b 100-10=90, c 50-10=40, d 2.5-10=-7.5
    assert list(sel.index) == ["b", "c", "a", "d"]
    assert sel["expected_net_gain"].tolist() == pytest.approx([90, 40, 35, -7.5])
    assert sel["selected"].tolist() == [True, True, False, False]  # budget allows only two
    assert sel.attrs["total_cost"] == 20 and sel.attrs["expected_net_gain"] == pytest.approx(130)
    big = select_for_retention(p, v, budget=1000, cost_per_contact=10, save_rate=0.5)
    assert big["selected"].tolist() == [True, True, True, False]  # d does not pay off
    assert big["cumulative_net_gain"].iloc[2] == pytest.approx(165)
    ax = plot_budget_curve(big)
    assert ax.get_xlabel().startswith("累计成本")
    plt.close("all")


def test_select_for_retention_errors():
    p = pd.Series({"a": 0.5, "b": 0.2})
    with pytest.raises(WorkbookInputError, match="no entry for 1 member"):
        select_for_retention(p, pd.Series({"a": 10.0}), 100, 1)
    with pytest.raises(WorkbookInputError, match="save_rate"):
        select_for_retention(p, 10.0, 100, 1, save_rate=1.5)
    with pytest.raises(WorkbookInputError, match="Series"):
        select_for_retention([0.5, 0.2], 10.0, 100, 1)
    with pytest.raises(WorkbookInputError, match="budget"):
        select_for_retention(p, 10.0, -1, 1)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 5000)), min_size=1, max_size=40
    ),
    budget=st.floats(0, 2000),
    cost=st.floats(0.5, 100),
    save_rate=st.floats(0, 1),
)
def test_select_for_retention_properties(data, budget, cost, save_rate):
    p = pd.Series([d[0] for d in data], index=[f"m{i}" for i in range(len(data))])
    v = pd.Series([d[1] for d in data], index=p.index)
    sel = select_for_retention(p, v, budget=budget, cost_per_contact=cost, save_rate=save_rate)
    chosen, rest = sel[sel["selected"]], sel[~sel["selected"]]
    assert len(chosen) * cost <= budget + 1e-6
    assert (chosen["expected_net_gain"] > 0).all()
    # Higher expected gain first: nobody left out is better than anyone chosen.
    if len(chosen) and len(rest):
        assert rest["expected_net_gain"].max() <= chosen["expected_net_gain"].min()
    n_positive = int((p * v * save_rate - cost > 0).sum())
    assert len(chosen) == min(int(math.floor(budget / cost + 1e-9)), n_positive)
    assert sel["expected_net_gain"].is_monotonic_decreasing


def test_model_follows_the_sklearn_estimator_contract(sim_split):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    from workbook.errors import NotFittedError

    s = sim_split
    model = ChurnModel("logistic", random_state=3, model_params={"C": 0.5})
    assert model.get_params() == {"kind": "logistic", "random_state": 3, "n_threads": 1, "model_params": {"C": 0.5}}
    twin = clone(model).set_params(random_state=3)
    pd.testing.assert_series_equal(
        model.fit(s.X_train, s.y_train).predict_proba(s.X_test),
        twin.fit(s.X_train, s.y_train).predict_proba(s.X_test),
    )
    assert model.pipeline_.named_steps["model"].C == 0.5
    fresh = clone(model)
    assert not hasattr(fresh, "pipeline_")
    with pytest.raises(NotFittedError) as excinfo:
        fresh.predict_proba(s.X_test)
    assert isinstance(excinfo.value, WorkbookInputError) and isinstance(excinfo.value, SklearnNotFittedError)
    with pytest.raises(WorkbookInputError, match="model_params"):
        ChurnModel(model_params=[("C", 1)]).fit(s.X_train, s.y_train)
