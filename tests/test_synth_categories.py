"""Product categories of the synthetic data (workbook.synth.categories)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import workbook.synth.generator as generator
from workbook.synth import Scenario, generate
from workbook.synth.categories import (
    CATEGORIES,
    CATEGORY_LABELS_ZH,
    draw_from_rows,
    member_preferences,
    population_mix,
    transaction_categories,
)


@pytest.fixture(scope="module")
def retail():
    return generate(Scenario.preset("retail_chain", n_members=1500, n_stores=4), random_state=11)


def test_categories_leave_every_other_column_unchanged(retail, monkeypatch):
    """The categories come from their own stream: without them the other columns are the same."""

    def no_categories(random_state, business, n_members, member, kind, src, n_walk, **_):
        n_rows = len(member) + len(src) + n_walk
        return np.full(n_rows, -1), np.full((n_members, len(CATEGORIES[business])), 1 / len(CATEGORIES[business]))

    monkeypatch.setattr(generator, "transaction_categories", no_categories)
    other = generate(Scenario.preset("retail_chain", n_members=1500, n_stores=4), random_state=11)
    assert other.transactions["category"].isna().all()
    pd.testing.assert_frame_equal(retail.transactions.drop(columns="category"),
                                  other.transactions.drop(columns="category"))
    for name in ("members", "stores", "store_traffic", "campaigns", "truth"):
        pd.testing.assert_frame_equal(getattr(retail, name), getattr(other, name))


def test_every_retail_row_has_a_known_category_and_returns_keep_theirs(retail):
    tx = retail.transactions
    assert tx["category"].notna().all() and set(tx["category"]) <= set(CATEGORIES["retail"])
    assert set(CATEGORIES["retail"]) <= set(CATEGORY_LABELS_ZH)


def test_return_keeps_category_of_its_purchase():
    # three purchase rows, two returns of rows 0 and 2, one walk-in
    kind = np.zeros(3, dtype=np.int8)
    codes, theta = transaction_categories(5, "retail", 2, np.array([0, 1, 1]), kind, np.array([0, 2]), 1)
    assert codes.shape == (6,)
    assert codes[3] == codes[0] and codes[4] == codes[2]
    assert theta.shape == (2, 8) and np.allclose(theta.sum(axis=1), 1.0)


def test_gym_fees_have_no_category():
    data = generate(Scenario.preset("gym", n_members=200, n_stores=2), random_state=2)
    tx = data.transactions
    assert tx.loc[tx["kind"] == "fee", "category"].isna().all()
    assert set(tx.loc[tx["kind"] == "visit", "category"]) <= set(CATEGORIES["gym"])
    assert tx.loc[tx["kind"] == "visit", "category"].notna().all()


def test_preferences_table_is_the_truth_the_purchases_follow(retail):
    prefs = retail.category_preferences
    assert len(prefs) == len(retail.members) * 8
    sums = prefs.groupby("member_id")["preference"].sum()
    assert np.allclose(sums, 1.0, atol=5e-4)
    # heavy buyers' observed shares are close to their true preferences
    tx = retail.transactions
    buys = tx[tx["member_id"].notna() & ~tx["is_return"]]
    counts = buys.groupby(["member_id", "category"]).size().unstack(fill_value=0)
    heavy = counts[counts.sum(axis=1) >= 40]
    assert len(heavy) >= 5
    observed = heavy.div(heavy.sum(axis=1), axis=0)
    truth = prefs.pivot(index="member_id", columns="category", values="preference").loc[observed.index,
                                                                                         observed.columns]
    assert float((observed - truth).abs().mean().mean()) < 0.05


def test_draw_from_rows_matches_the_probabilities():
    theta = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    rows = np.repeat([0, 1], 40_000)
    codes = draw_from_rows(np.random.default_rng(0), theta, rows)
    share0 = np.bincount(codes[rows == 0], minlength=3) / 40_000
    assert np.allclose(share0, theta[0], atol=0.01)
    assert (codes[rows == 1] == 2).all()


def test_member_preferences_are_deterministic_and_mix_sums_to_one():
    a = member_preferences(np.random.default_rng(4), "retail", 50)
    b = member_preferences(np.random.default_rng(4), "retail", 50)
    assert np.array_equal(a, b)
    assert np.isclose(population_mix("retail").sum(), 1.0)
    # large population: average preference -> population mix
    big = member_preferences(np.random.default_rng(1), "retail", 40_000)
    assert np.allclose(big.mean(axis=0), population_mix("retail"), atol=0.01)


# ------------------------------------------------------------ a user's export with a category column
def test_loader_maps_a_category_column_and_the_recommender_uses_it(tmp_path):
    from workbook.io import load_transactions, suggest_mapping, validate_transactions
    from workbook.recommend import category_history

    csv = tmp_path / "pos_gbk.csv"
    csv.write_bytes(("会员卡号,交易时间,实付金额,品类\n"
                     "0001,2024-01-02 10:00,35.5,生鲜\n"
                     "0001,2024-01-09 18:30,12.0,零食\n"
                     "0002,2024-01-03 09:15,88.0,生鲜\n"
                     ",2024-01-03 11:00,5.0,\n").encode("gbk"))
    assert suggest_mapping(["会员卡号", "交易时间", "实付金额", "品类"])["品类"] == "category"
    mapping = {"会员卡号": "member_id", "交易时间": "timestamp", "实付金额": "amount", "品类": "category"}
    tx = load_transactions(csv, mapping, analysis_date="2024-12-31")
    assert tx["category"].tolist()[:3] == ["生鲜", "零食", "生鲜"] and pd.isna(tx["category"].iloc[3])
    assert validate_transactions(tx, analysis_date="2024-12-31").empty
    history = category_history(tx)
    assert history.loc["0001"].to_dict() == {"生鲜": 1, "零食": 1}
    # without the column the export still loads (the column is optional)
    plain = load_transactions(csv, {k: v for k, v in mapping.items() if v != "category"}, analysis_date="2024-12-31")
    assert "category" not in plain.columns
