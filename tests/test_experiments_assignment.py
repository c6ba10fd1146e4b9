"""Seeded, stratified arm assignment and the balance table."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.errors import WorkbookInputError
from workbook.experiments import assign_arms, balance_table


def members(n, n_segments=3, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "member_id": [f"m{i:05d}" for i in range(n)],
            "segment": rng.choice([f"s{k}" for k in range(n_segments)], n),
            "spend": rng.gamma(2.0, 100.0, n),
        }
    )


def test_assignment_is_deterministic_and_order_invariant():
    m = members(500)
    before = m.copy()
    a = assign_arms(m, strata="segment", random_state=7)
    pd.testing.assert_frame_equal(m, before)
    pd.testing.assert_frame_equal(a, assign_arms(m, strata="segment", random_state=7))
    assert not a["arm"].equals(assign_arms(m, strata="segment", random_state=8)["arm"])
    shuffled = m.sample(frac=1.0, random_state=3)
    b = assign_arms(shuffled, strata="segment", random_state=7)
    assert b.index.equals(shuffled.index)  # same rows, caller's order
    pd.testing.assert_series_equal(b["arm"].sort_index(), a["arm"])


def test_unequal_weights_and_three_arms():
    m = members(1003, n_segments=4)
    out = assign_arms(m, arms=["hold", "sms", "coupon"], weights=[1, 2, 2], strata="segment", random_state=1)
    counts = out.groupby(["segment", "arm"]).size().unstack()
    sizes = m.groupby("segment").size()
    for arm, w in {"hold": 0.2, "sms": 0.4, "coupon": 0.4}.items():
        expected = sizes * w
        assert ((counts[arm] >= np.floor(expected)) & (counts[arm] <= np.ceil(expected))).all()


def test_missing_stratum_is_its_own_stratum_and_no_id_col():
    m = members(40).drop(columns="member_id")
    m["segment"] = m["segment"].astype(object)
    m.loc[:9, "segment"] = None
    out = assign_arms(m, strata="segment", random_state=0, member_col=None)
    sizes = out[out["segment"].isna()]["arm"].value_counts()
    assert sizes.tolist() == [5, 5]


@settings(max_examples=30, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=2, max_size=120),
    n_arms=st.integers(2, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_member_once_and_balanced_within_strata(labels, n_arms, seed):
    m = pd.DataFrame({"member_id": [f"id{i}" for i in range(len(labels))], "segment": labels})
    arms = [f"arm{k}" for k in range(n_arms)]
    out = assign_arms(m, arms=arms, strata="segment", random_state=seed)
    assert len(out) == len(m) and out["member_id"].equals(m["member_id"])
    assert out["arm"].isin(arms).all() and out["arm"].notna().all()
    counts = out.groupby(["segment", "arm"]).size().unstack(fill_value=0).reindex(columns=arms, fill_value=0)
    assert (counts.max(axis=1) - counts.min(axis=1) <= 1).all()


def test_balance_table_values():
    df = pd.DataFrame(
        {
            "arm": ["control"] * 4 + ["treatment"] * 4,
            "spend": [1.0, 3.0, 1.0, 3.0, 2.0, 4.0, 2.0, 4.0],
            "segment": ["a", "a", "b", "b", "a", "a", "a", "b"],
        }
    )
    t = balance_table(df, covariates=["spend", "segment"])
    assert t.loc["n", "control"] == 4 and t.loc["n", "treatment"] == 4
    # var = 4/3 in both arms -> SMD = 1 / sqrt(4/3).
    assert t.loc["spend", "smd_treatment"] == pytest.approx(1 / np.sqrt(4 / 3))
    assert t.loc["segment=a", "control"] == pytest.approx(0.5)
    assert t.loc["segment=a", "treatment"] == pytest.approx(0.75)
    # shares: var 1/3 (ddof 1) and 1/4 -> SMD = 0.25 / sqrt((1/3 + 1/4) / 2).
    assert t.loc["segment=a", "smd_treatment"] == pytest.approx(0.25 / np.sqrt((1 / 3 + 1 / 4) / 2))
    assert not t.loc["spend", "balanced"]


def test_stratified_assignment_balances_covariates():
    m = members(4000)
    t = balance_table(assign_arms(m, strata="segment", random_state=2), covariates=["spend", "segment"])
    assert t.loc["n"].iloc[:2].tolist() == [2000, 2000]
    assert t.loc[["segment=s0", "segment=s1", "segment=s2"], "max_abs_smd"].max() < 0.005
    assert t["balanced"].all()


def test_assignment_errors():
    m = members(10)
    with pytest.raises(WorkbookInputError, match=r"duplicated ids at rows 0, 3"):
        assign_arms(m.assign(member_id=["x", "y", "z", "x"] + [f"u{i}" for i in range(6)]))
    with pytest.raises(WorkbookInputError, match="weights"):
        assign_arms(m, weights=[1, -1])
    with pytest.raises(WorkbookInputError, match="weights"):
        assign_arms(m, weights=[1, 1, 1])
    with pytest.raises(WorkbookInputError, match="at least two different arms"):
        assign_arms(m, arms=["a", "a"])
    with pytest.raises(WorkbookInputError, match="already has a column 'arm'"):
        assign_arms(assign_arms(m))
    with pytest.raises(WorkbookInputError, match="missing column"):
        assign_arms(m, strata="tier")
    with pytest.raises(WorkbookInputError, match="control='B' is not an arm"):
        balance_table(assign_arms(m), control="B")
