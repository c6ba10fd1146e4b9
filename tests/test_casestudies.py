"""Tests for workbook.casestudies: hand-computed panels, outcomes, memberships and fees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.casestudies import (
    early_life_outcomes,
    expected_fee_revenue,
    fee_memberships,
    new_member_experiment,
    repeat_purchase_panel,
    true_effect,
    without_effects,
)
from workbook.errors import WorkbookInputError
from workbook.survival import km_curves
from workbook.synth import Scenario, generate


def _tx(rows):
    df = pd.DataFrame(rows, columns=["transaction_id", "member_id", "store_id", "timestamp", "amount"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601")
    df["amount"] = df["amount"].astype(float)
    return df


# ---------------------------------------------------------------- without_effects
def test_without_effects_keeps_members_and_assignment():
    sc = Scenario.preset("ecommerce", n_members=400)
    cf = without_effects(sc)
    assert cf.effects.retention_dropout_reduction == 0.0
    assert cf.effects.points_rate_lift == 0.0
    assert cf.effects.retention_treatment == sc.effects.retention_treatment
    a, b = generate(sc, random_state=3), generate(cf, random_state=3)
    pd.testing.assert_frame_equal(a.members.drop(columns="tier"), b.members.drop(columns="tier"))  # tier follows spend
    assert (a.truth["retention_treated"] == b.truth["retention_treated"]).all()
    assert a.truth["retention_treated"].any()
    treated = a.truth["retention_treated"].to_numpy()
    # treated members' dropout is 0.8 x the parallel world's, the others' is unchanged
    np.testing.assert_allclose(a.truth["dropout_prob"][treated], 0.8 * b.truth["dropout_prob"][treated])
    np.testing.assert_allclose(a.truth["dropout_prob"][~treated], b.truth["dropout_prob"][~treated])


def test_without_effects_rejects_other_objects():
    with pytest.raises(WorkbookInputError, match="Scenario"):
        without_effects({"effects": None})


# ---------------------------------------------------------- repeat_purchase_panel
@pytest.fixture
def shop():
    tx = _tx([
        ("t1", "a", "s1", "2024-01-03 10:00", 10),
        ("t2", "a", "s1", "2024-01-03 18:00", 12),  # same day: a repeat purchase, not a repurchase day
        ("t3", "a", "s2", "2024-02-07", 8),
        ("t4", "b", "s2", "2024-01-05", 5),
        ("t5", "b", "s2", "2024-01-09", 6),
        ("t6", None, "s1", "2024-01-10", 99),  # walk-in
        ("t7", "c", "s1", "2024-02-20", 20),
    ])
    stores = pd.DataFrame({"store_id": ["s1", "s2"], "points_programme": [True, False]})
    return tx, stores


def test_repeat_purchase_panel_hand_counts(shop):
    tx, stores = shop
    p = repeat_purchase_panel(tx, stores, analysis_date="2024-03-01")
    got = p.set_index(["store_id", p["period"].dt.strftime("%Y-%m")])
    assert got.loc[("s1", "2024-01"), "n_purchases"] == 2
    assert got.loc[("s1", "2024-01"), "n_repeat_purchases"] == 1
    assert got.loc[("s1", "2024-01"), "repurchase_rate"] == 0.0
    assert got.loc[("s2", "2024-01"), "n_repeat_purchases"] == 1
    assert got.loc[("s2", "2024-01"), "repurchase_rate"] == 1.0
    assert got.loc[("s2", "2024-02"), "n_repeat_purchases"] == 1  # a's third purchase
    assert got.loc[("s1", "2024-02"), "n_repeat_purchases"] == 0  # c's first purchase
    assert np.isnan(got.loc[("s1", "2024-02"), "log_repeat_purchases"])
    assert got.loc[("s2", "2024-01"), "log_repeat_purchases"] == pytest.approx(0.0)
    assert got["treated"].to_dict() == {("s1", "2024-01"): 1, ("s2", "2024-01"): 0,
                                        ("s1", "2024-02"): 1, ("s2", "2024-02"): 0}
    assert tx["member_id"].isna().sum() == 1  # input untouched


def test_repeat_purchase_panel_errors(shop):
    tx, stores = shop
    with pytest.raises(WorkbookInputError, match="not in stores"):
        repeat_purchase_panel(tx, stores.iloc[:1], analysis_date="2024-03-01")
    bad = stores.assign(points_programme=["yes", "no"])
    with pytest.raises(WorkbookInputError, match="points_programme"):
        repeat_purchase_panel(tx, bad)
    with pytest.raises(WorkbookInputError, match="transaction_id"):
        repeat_purchase_panel(tx.drop(columns="transaction_id"), stores)


def test_repeat_purchases_never_exceed_purchases_on_synthetic_chain():
    d = generate(Scenario.preset("retail_chain", n_members=600, n_stores=6), random_state=2)
    p = repeat_purchase_panel(d.transactions, d.stores)
    assert (p["n_repeat_purchases"] <= p["n_purchases"]).all()
    members = d.transactions["member_id"].notna() & ~d.transactions["is_return"]
    last_period = p["period"].max() + pd.offsets.MonthBegin(1)
    in_panel = members & (d.transactions["timestamp"] < last_period)
    n_buyers = d.transactions.loc[in_panel, "member_id"].nunique()
    # every buyer contributes exactly one first purchase
    assert p["n_purchases"].sum() - p["n_repeat_purchases"].sum() == n_buyers
    assert set(p.loc[p["treated"] == 1, "store_id"]) == set(d.stores.loc[d.stores["points_programme"], "store_id"])


# ------------------------------------------------------------------- true_effect
def test_true_effect_hand_numbers_with_change_date():
    period = pd.to_datetime(["2024-01-01", "2024-05-01", "2024-05-01", "2024-05-01"])
    a = pd.DataFrame({"period": period, "treated": [1, 1, 1, 0], "y": [9.0, 1.2, 1.4, 5.0]})
    c = pd.DataFrame({"period": period, "treated": [1, 1, 1, 0], "y": [0.0, 1.0, 1.0, 7.0]})
    r = true_effect(a, c, "y", change_date="2024-04-01").iloc[0]
    assert r["actual_mean"] == pytest.approx(1.3)
    assert r["counterfactual_mean"] == pytest.approx(1.0)
    assert r["effect"] == pytest.approx(0.3)
    assert r["relative_effect"] == pytest.approx(0.3)
    assert r["n_actual"] == 2
    r_log = true_effect(a, c, "y", change_date="2024-04-01", log_scale=True).iloc[0]
    assert r_log["relative_effect"] == pytest.approx(np.exp(0.3) - 1)


def test_true_effect_bool_outcome_and_errors():
    a = pd.DataFrame({"treated": [True, True, False], "ok": [True, False, True]})
    c = pd.DataFrame({"treated": [True, True, False], "ok": [False, False, True]})
    assert true_effect(a, c, "ok")["effect"].iloc[0] == pytest.approx(0.5)
    with pytest.raises(WorkbookInputError, match="no treated rows"):
        true_effect(a.assign(treated=False), c, "ok")
    with pytest.raises(WorkbookInputError, match="'treated'"):
        true_effect(a.assign(treated=[2, 1, 0]), c, "ok")


# ------------------------------------------------------------ early_life_outcomes
def test_early_life_outcomes_window_edges_and_returns():
    tx = _tx([
        ("t1", "a", "s", "2024-01-01 10:00", 50),
        ("t2", "a", "s", "2024-01-21", 20),
        ("t3", "a", "s", "2024-01-25", -20),      # return of t2 inside the window
        ("t4", "a", "s", "2024-04-01 10:00", 30),  # day 91: counts as retained
        ("t5", "a", "s", "2024-06-29 10:00", 40),  # exactly day 180: outside the horizon
        ("t6", "b", "s", "2024-01-05", 80),
        ("t7", "b", "s", "2024-02-01", 10),
        ("t8", "c", "s", "2024-11-01", 15),        # horizon not complete at the analysis date
    ])
    tx["is_return"] = tx["amount"] < 0
    out = early_life_outcomes(tx, 180, 91, analysis_date="2024-12-01")
    a, b, c = out.loc["a"], out.loc["b"], out.loc["c"]
    assert a["first_amount"] == 50.0
    assert a["repeat_purchases"] == 2
    assert a["repeat_spend"] == pytest.approx(30.0)  # 20 - 20 + 30
    assert bool(a["retained"]) and bool(a["repurchased"]) and bool(a["complete"])
    assert b["repeat_purchases"] == 1 and not bool(b["retained"])
    assert not bool(c["complete"]) and c["repeat_purchases"] == 0


def test_early_life_outcomes_first_purchase_ties_and_member_order():
    # members out of order; b's two purchases at the same time: the smaller transaction id is the first
    tx = _tx([
        ("t9", "b", "s", "2024-01-05 10:00", 70),
        ("t3", "b", "s", "2024-01-05 10:00", 80),
        ("t5", "a", "s", "2024-01-02", 50),
        ("t1", "a", "s", "2024-01-03", 20),
    ])
    out = early_life_outcomes(tx, 180, 91, analysis_date="2024-12-01")
    assert out.index.tolist() == ["a", "b"]
    assert out.loc["b", "first_amount"] == 80.0  # t3, not t9
    assert out.loc["b", "repeat_purchases"] == 1 and out.loc["b", "repeat_spend"] == 70.0
    assert out.loc["a", "first_amount"] == 50.0 and out.loc["a", "repeat_purchases"] == 1
    # the same outcomes when the ids are Python objects, not Arrow-backed text
    same = early_life_outcomes(tx.astype({"member_id": object, "transaction_id": object}), 180, 91,
                               analysis_date="2024-12-01")
    pd.testing.assert_frame_equal(same.reset_index(drop=True), out.reset_index(drop=True))


def test_early_life_outcomes_errors():
    tx = _tx([("t1", "a", "s", "2024-01-01", 5)])
    with pytest.raises(WorkbookInputError, match="active_from_days"):
        early_life_outcomes(tx, 90, 90)
    with pytest.raises(WorkbookInputError, match="horizon_days"):
        early_life_outcomes(tx, 0)
    with pytest.raises(WorkbookInputError, match="no member purchases"):
        early_life_outcomes(tx.assign(member_id=None))


def test_new_member_experiment_filters_and_arms():
    tx = _tx([
        ("t1", "a", "s", "2024-01-02", 50), ("t2", "a", "s", "2024-05-01", 20),
        ("t3", "b", "s", "2024-01-05", 80), ("t4", "c", "s", "2023-12-01", 10),
    ])
    members = pd.DataFrame({"member_id": ["a", "b", "c"],
                            "join_date": pd.to_datetime(["2024-01-01", "2024-01-03", "2023-11-30"]),
                            "acquisition_channel": ["app", "referral", "app"]})
    arms = pd.DataFrame({"member_id": ["a", "b", "c"], "retention_treated": [True, False, False]})
    out = new_member_experiment(tx, members, arms, "2024-01-01", analysis_date="2024-12-31")
    assert list(out.index) == ["a", "b"]  # c joined before the start
    assert out["arm"].tolist() == ["treatment", "control"]
    assert out["treated"].tolist() == [1, 0]
    assert out["acquisition_channel"].tolist() == ["app", "referral"]
    with pytest.raises(WorkbookInputError, match="no arm"):
        new_member_experiment(tx, members, arms.iloc[1:], "2024-01-01", analysis_date="2024-12-31")
    with pytest.raises(WorkbookInputError, match="duplicates"):
        new_member_experiment(tx, members, pd.concat([arms, arms]), "2024-01-01")


# --------------------------------------------------------------- fee_memberships
def test_fee_memberships_grace_gap_and_censoring():
    tx = pd.DataFrame({
        "member_id": ["a", "a", "a", "b", "b", "c", "c", "c"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-02-03", "2024-03-04",  # 33 days: within grace
                                     "2024-01-10", "2024-05-01",                # gap: two memberships
                                     "2024-04-01", "2024-05-01", "2024-05-31"]),
        "kind": ["fee"] * 8,
    })
    tx.loc[len(tx)] = ["a", pd.Timestamp("2024-02-10"), "visit"]  # visits are ignored
    out = fee_memberships(tx, 30, analysis_date="2024-06-15")
    assert out.loc["a", "n_fees"] == 3
    assert out.loc["a", "end"] == pd.Timestamp("2024-04-03")
    assert out.loc["a", "duration_days"] == 93 and bool(out.loc["a", "event"])
    assert out.loc["b", "n_fees"] == 1 and bool(out.loc["b", "reactivated"])
    assert out.loc["b", "duration_days"] == 30 and bool(out.loc["b", "event"])
    assert pd.isna(out.loc["c", "end"]) and not bool(out.loc["c", "event"])
    assert out.loc["c", "duration_days"] == 75  # 2024-04-01 -> 2024-06-15


@pytest.mark.parametrize(
    ("analysis_date", "event", "in_grace", "duration"),
    [
        ("2024-03-15", False, False, 74),   # next fee due 2024-03-31 (2024 is a leap year): running
        ("2024-04-01", False, True, 90),    # due date passed, 5-day grace open: censored at the due date
        ("2024-04-05", False, True, 90),    # a fee paid on 04-05 would still count: undecided
        ("2024-04-06", True, False, 90),    # grace over, no fee: churned at the due date
    ],
)
def test_fee_memberships_censors_members_inside_the_grace_period(analysis_date, event, in_grace, duration):
    tx = pd.DataFrame({"member_id": ["a"] * 3, "kind": ["fee"] * 3,
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-31", "2024-03-01"])})
    out = fee_memberships(tx, 30, analysis_date=analysis_date, grace_days=5)
    row = out.loc["a"]
    assert (bool(row["event"]), bool(row["in_grace"]), row["duration_days"]) == (event, in_grace, duration)
    assert pd.isna(row["end"]) == (not event)
    # A late fee paid on the last grace day continues the same membership.
    late = pd.concat([tx, pd.DataFrame({"member_id": ["a"], "kind": ["fee"],
                                        "timestamp": [pd.Timestamp("2024-04-05")]})])
    assert fee_memberships(late, 30, analysis_date="2024-04-10", grace_days=5).loc["a", "n_fees"] == 4


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=15), min_size=1, max_size=8))
def test_fee_memberships_duration_is_fees_times_cycle(n_fees):
    starts = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(len(n_fees)) * 3, unit="D")
    rows = [(f"m{i}", s + pd.Timedelta(days=30 * k)) for i, (s, n) in enumerate(zip(starts, n_fees))
            for k in range(n)]
    tx = pd.DataFrame(rows, columns=["member_id", "timestamp"]).assign(kind="fee")
    out = fee_memberships(tx, 30, analysis_date="2030-01-01")
    assert out["event"].all()
    np.testing.assert_array_equal(out["duration_days"].to_numpy(), out["n_fees"].to_numpy() * 30)
    np.testing.assert_array_equal(out.sort_index()["n_fees"].to_numpy(),
                                  pd.Series(n_fees, index=[f"m{i}" for i in range(len(n_fees))]).sort_index())


def test_fee_memberships_on_synthetic_gym_match_truth():
    d = generate(Scenario.preset("gym", n_members=300), random_state=5)
    f = fee_memberships(d.transactions, 30)
    truth = d.truth.set_index("member_id").loc[f.index]
    once = ~f["reactivated"] & truth["reactivated_at"].isna()
    churned = once & truth["churn_time"].notna()
    # a churned member's last fee is the last billing date before the churn time
    gap = (truth.loc[churned, "churn_time"] - f.loc[churned, "last_fee"]) / pd.Timedelta(days=1)
    assert churned.sum() > 20
    assert ((gap >= -1) & (gap < 31)).all()
    assert not f.loc[once & truth["alive_at_end"], "event"].any()


def test_fee_memberships_errors():
    tx = pd.DataFrame({"member_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"]), "kind": ["visit"]})
    with pytest.raises(WorkbookInputError, match="No fee payments"):
        fee_memberships(tx)
    with pytest.raises(WorkbookInputError, match="billing_cycle_days"):
        fee_memberships(tx.assign(kind="fee"), 0)
    with pytest.raises(WorkbookInputError, match="kind"):
        fee_memberships(tx.drop(columns="kind"))


# ----------------------------------------------------------- expected_fee_revenue
def test_expected_fee_revenue_from_km():
    d = pd.DataFrame({"duration_days": [30, 60, 60, 90, 120], "event": [1, 1, 1, 1, 0]})
    curves = km_curves(d)
    out = expected_fee_revenue(curves, 100.0, horizon_days=120, billing_cycle_days=30)
    # S(0)=1, S(30)=0.8, S(60)=0.4, S(90)=0.2 -> 2.4 fees
    assert out.loc["all", "expected_fees"] == pytest.approx(2.4)
    assert out.loc["all", "revenue_per_member_cny"] == pytest.approx(240.0)
    short = expected_fee_revenue(curves, 100.0, horizon_days=365)
    assert np.isnan(short.loc["all", "expected_fees"])  # curve ends at day 120
    with pytest.raises(WorkbookInputError, match="monthly_fee_cny"):
        expected_fee_revenue(curves, -1.0)
