"""Next-best-category recommendation (workbook.recommend) against hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from workbook.errors import NotFittedError, WorkbookInputError
from workbook.recommend import (
    NextBestCategory,
    category_history,
    conditional_probabilities,
    hit_rate,
    holdout_hit_rate,
)

JAN, MAR = pd.Timestamp("2024-01-10"), pd.Timestamp("2024-03-10")


@pytest.fixture
def tx():
    # history (January):  a: baby x2, dairy    b: baby, dairy    c: snacks    d: snacks, drinks
    # plus a return (b, snacks) and a walk-in (baby) that must be ignored; holdout (March): a dairy, c drinks
    rows = [
        ("a", JAN, 10.0, "baby", False), ("a", JAN, 10.0, "baby", False), ("a", JAN, 5.0, "dairy", False),
        ("b", JAN, 8.0, "baby", False), ("b", JAN, 4.0, "dairy", False), ("b", JAN, -3.0, "snacks", True),
        ("c", JAN, 6.0, "snacks", False), ("d", JAN, 6.0, "snacks", False), ("d", JAN, 2.0, "drinks", False),
        (None, JAN, 9.0, "baby", False),
        ("a", MAR, 5.0, "dairy", False), ("c", MAR, 2.0, "drinks", False),
    ]
    return pd.DataFrame(rows, columns=["member_id", "timestamp", "amount", "category", "is_return"])


def test_history_counts_purchases_only(tx):
    h = category_history(tx, analysis_date="2024-02-01")
    assert h.loc["a"].to_dict() == {"baby": 2, "dairy": 1, "drinks": 0, "snacks": 0}
    assert h.loc["b", "snacks"] == 0  # the return is not a purchase
    assert h.sum().sum() == 8  # walk-in left out


def test_conditional_probabilities_by_hand(tx):
    cond = conditional_probabilities(category_history(tx, analysis_date="2024-02-01"))
    # buyers: baby {a,b}, dairy {a,b}, snacks {c,d}, drinks {d}
    assert cond.loc["baby", "dairy"] == 1.0
    assert cond.loc["snacks", "drinks"] == 0.5  # of c, d only d bought drinks
    assert cond.loc["drinks", "snacks"] == 1.0
    assert cond.loc["baby", "snacks"] == 0.0
    assert np.allclose(np.diag(cond), 1.0)


def test_cooccurrence_scores_by_hand(tx):
    model = NextBestCategory().fit(tx, analysis_date="2024-02-01")
    # popularity = share of the 4 members who bought: baby .5, dairy .5, snacks .5, drinks .25
    assert model.popularity_.to_dict() == {"baby": 0.5, "dairy": 0.5, "snacks": 0.5, "drinks": 0.25}
    scores = model.score_categories(["a", "c", "new"])
    # a: 2/3 * P(.|baby) + 1/3 * P(.|dairy) = 1 for baby and dairy, 0 otherwise
    assert scores.loc["a"].to_dict() == pytest.approx({"baby": 1.0, "dairy": 1.0, "snacks": 0.0, "drinks": 0.0})
    # c bought only snacks: P(drinks | snacks) = 1/2
    assert scores.loc["c", "drinks"] == pytest.approx(0.5)
    # a member without history gets the popularity scores
    assert scores.loc["new"].tolist() == model.popularity_.tolist()


def test_recommend_ranks_and_exclude_seen(tx):
    model = NextBestCategory(exclude_seen=True).fit(tx, analysis_date="2024-02-01")
    rec = model.recommend(["c", "d"], k=2)
    assert rec.columns.tolist() == ["member_id", "rank", "category", "score"]
    # c: drinks (0.5), then baby and dairy tie at 0 -> popularity order, then name: baby
    assert rec[rec["member_id"] == "c"]["category"].tolist() == ["drinks", "baby"]
    assert rec[rec["member_id"] == "c"]["rank"].tolist() == [1, 2]
    assert "snacks" not in set(rec[rec["member_id"] == "d"]["category"])
    # fewer categories left than k: only the unseen ones
    assert len(model.recommend(["a"], k=10)) == 2


def test_popularity_recommends_the_same_to_everybody(tx):
    rec = NextBestCategory("popularity").fit(tx, analysis_date="2024-02-01").recommend(k=1)
    assert set(rec["category"]) == {"baby"}  # ties on 0.5 broken by name


def test_hit_rate_by_hand():
    rec = pd.DataFrame({"member_id": ["a", "a", "b"], "category": ["x", "y", "z"]})
    bought = pd.DataFrame({"member_id": ["a", "b", "c"], "category": ["y", "x", "z"]})
    assert hit_rate(rec, bought).to_dict() == {"a": 1, "b": 0}


def test_holdout_hit_rate_by_hand(tx):
    table = holdout_hit_rate(tx, analysis_date="2024-02-01", k=1)
    # evaluated: a (bought dairy) and c (bought drinks).  popularity -> baby for both: 0 hits.
    # cooccurrence: a -> baby (tie with dairy, baby first by name) miss; c -> snacks (score 1) miss
    assert table.loc["popularity", "hit_rate"] == 0.0 and table.loc["popularity", "n_members"] == 2
    assert table.loc["cooccurrence", "hits"] == 0
    new = holdout_hit_rate(tx, analysis_date="2024-02-01", k=1, exclude_seen=True)
    # only new categories count: a has none new -> miss; c -> drinks (0.5) hit
    assert new.loc["cooccurrence", "hits"] == 1 and new.loc["popularity", "hits"] == 0
    assert new.loc["cooccurrence", "lift_vs_popularity"] == pytest.approx(0.5)
    lo, hi = new.loc["cooccurrence", ["ci_low", "ci_high"]]
    assert lo < 0.5 < hi


def test_true_preferences_are_the_upper_bound(tx):
    prefs = pd.DataFrame({
        "member_id": np.repeat(["a", "b", "c", "d"], 4),
        "category": ["baby", "dairy", "snacks", "drinks"] * 4,
        "preference": [0.1, 0.7, 0.1, 0.1] * 2 + [0.2, 0.1, 0.1, 0.6] * 2,
    })
    table = holdout_hit_rate(tx, analysis_date="2024-02-01", k=1, true_preferences=prefs)
    assert table.loc["true_preference", "hits"] == 2  # a -> dairy, c -> drinks


def test_on_synthetic_data_cooccurrence_beats_popularity_below_the_truth():
    from workbook.synth import Scenario, generate

    data = generate(Scenario.preset("retail_chain", n_members=3000, n_stores=4), random_state=5)
    table = holdout_hit_rate(data.transactions, analysis_date="2024-07-01", k=2,
                             true_preferences=data.category_preferences)
    pop, co, truth = table["hit_rate"].loc[["popularity", "cooccurrence", "true_preference"]]
    assert pop < co <= truth + 0.02


def test_estimator_contract_and_errors(tx):
    model = NextBestCategory("popularity", exclude_seen=True)
    assert clone(model).get_params()["method"] == "popularity"
    with pytest.raises(NotFittedError):
        model.recommend()
    with pytest.raises(WorkbookInputError):
        NextBestCategory("random").fit(tx)
    with pytest.raises(WorkbookInputError, match="category"):
        NextBestCategory().fit(tx.drop(columns="category"))
    with pytest.raises(WorkbookInputError, match="no holdout"):
        holdout_hit_rate(tx, analysis_date="2024-06-01")
    with pytest.raises(WorkbookInputError):
        holdout_hit_rate(tx, analysis_date="2024-02-01", k=0)
    with pytest.raises(WorkbookInputError, match="exclude_seen"):
        holdout_hit_rate(tx, analysis_date="2024-02-01", exclude_seen="yes")
    assert NextBestCategory().fit(tx) is not None
