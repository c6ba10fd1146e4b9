"""Member feedback: NPS and its interval, complaint drivers, feedback vs churn; the synthetic surveys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbook import feedback as fb
from workbook.errors import WorkbookInputError
from workbook.synth import Scenario, generate
from workbook.synth.feedback import COMPLAINT_TAGS, SURVEY_MODEL


@pytest.fixture(scope="module")
def small():
    return generate(Scenario.preset("retail_chain", n_members=1500, n_stores=6), random_state=11)


def test_nps_summary_by_hand():
    s = pd.DataFrame({"nps": [10, 9, 8, 7, 6, 0, 10, 3], "store": list("aaaabbbb")})
    t = fb.nps_summary(s, by="store", confidence=0.9)
    # store a: 2 promoters, 2 passives, 0 detractors of 4 -> NPS 50
    a = t.loc["a"]
    assert (a["n"], a["promoter_share"], a["detractor_share"], a["nps"]) == (4, 0.5, 0.0, 50.0)
    assert a["se"] == pytest.approx(100 * np.sqrt((0.5 + 0.0 - 0.25) / 4))
    # store b: 1 promoter, 3 detractors -> NPS -50, se = 100 sqrt((0.25 + 0.75 - 0.25) / 4)
    b = t.loc["b"]
    assert b["nps"] == -50.0
    assert b["se"] == pytest.approx(100 * np.sqrt(0.75 / 4))
    z = 1.6448536269514722
    assert b["ci_low"] == -100.0  # -50 - z se = -121 is clipped to the scale
    assert b["ci_high"] == pytest.approx(-50 + z * b["se"])


@pytest.mark.parametrize("bad", ["10分", 11, -1, 7.5, None])
def test_nps_refuses_bad_scores_naming_row_and_value(bad):
    s = pd.DataFrame({"nps": [9, 8, bad]})
    with pytest.raises(WorkbookInputError) as e:
        fb.nps_summary(s)
    msg = e.value.bilingual()
    assert "'nps'" in msg and "row 2" in msg and "0 到 10" in msg


def test_complaint_drivers_match_least_squares_by_hand():
    s = pd.DataFrame({
        "nps": [9, 10, 6, 5, 8, 4, 7, 9],
        "complaint_tags": [None, "", "queue", "queue", "price", "queue; price", "price", None],
    })
    d = fb.complaint_drivers(s)
    X = np.column_stack([np.ones(8), [0, 0, 1, 1, 0, 1, 0, 0], [0, 0, 0, 0, 1, 1, 1, 0]])
    beta = np.linalg.lstsq(X, s["nps"].to_numpy(float), rcond=None)[0]
    assert d.loc["queue", "effect"] == pytest.approx(beta[1])
    assert d.loc["price", "effect"] == pytest.approx(beta[2])
    assert d.loc["queue", "n"] == 3 and d.loc["price", "n"] == 3  # " price" and "price" are one tag
    assert d.loc["queue", "score_with"] == pytest.approx(5.0)
    # NPS of the answers with "queue": 0 promoters, 3 detractors
    assert d.loc["queue", "nps_with"] == -100.0
    assert d.index[0] == "queue"  # most harmful first
    # standard errors and intervals as statsmodels' OLS
    import statsmodels.api as sm

    fit = sm.OLS(s["nps"].to_numpy(float), X).fit()
    assert d.loc["queue", "se"] == pytest.approx(fit.bse[1])
    assert d.loc["price", "ci_low"] == pytest.approx(fit.conf_int(0.05)[2, 0])


def test_member_feedback_uses_only_answers_before_the_cutoff():
    s = pd.DataFrame({"member_id": ["a", "a", "b"],
                      "answered_at": pd.to_datetime(["2024-01-01", "2024-05-01", "2024-02-01"]),
                      "nps": [9, 2, 6], "satisfaction": [5, 1, 3],
                      "complaint_tags": [None, "queue", "price"]})
    m = fb.member_feedback(s, analysis_date="2024-03-01")
    assert m.loc["a", "last_nps"] == 9 and m.loc["a", "n_surveys"] == 1 and m.loc["a", "complaints"] == 0
    assert m.loc["b", "nps_group"] == "detractor" and m.loc["b", "mean_satisfaction"] == 3


def test_churn_by_feedback_wilson_interval():
    fbk = pd.DataFrame({"nps_group": ["detractor"] * 10}, index=range(10))
    lab = pd.DataFrame({"churned": [True] * 4 + [False] * 6}, index=range(10))
    t = fb.churn_by_feedback(fbk, lab)
    n, p, z = 10, 0.4, 1.959963984540054
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert t.loc["detractor", "churn_rate"] == 0.4
    assert t.loc["detractor", "ci_low"] == pytest.approx(centre - half)
    assert t.loc["detractor", "ci_high"] == pytest.approx(centre + half)
    from statsmodels.stats.proportion import proportion_confint

    assert t.loc["detractor", "ci_low"] == pytest.approx(proportion_confint(4, 10, method="wilson")[0])
    with pytest.raises(WorkbookInputError, match="No member"):
        fb.churn_by_feedback(fbk, lab.set_index(lab.index + 100))


def test_synthetic_surveys_follow_the_documented_model(small):
    s = small.surveys
    assert s.columns.tolist() == ["survey_id", "member_id", "store_id", "answered_at", "nps", "satisfaction",
                                  "complaint_tags"]
    assert s["nps"].between(0, 10).all() and s["satisfaction"].between(1, 5).all()
    assert s["member_id"].isin(small.members["member_id"]).all()
    assert (s["answered_at"] <= small.scenario.end + pd.Timedelta(days=1)).all()
    # answer rate close to the true answer_prob per member purchase
    tx = small.transactions
    n_pur = int((tx["member_id"].notna() & ~tx["is_return"]).sum())
    assert len(s) / n_pur == pytest.approx(SURVEY_MODEL["answer_prob"], rel=0.15)
    # tag shares near the truth; less happy members (higher dropout_prob) score lower
    tags = s["complaint_tags"].fillna("").str.get_dummies(sep=";")
    for tag, spec in COMPLAINT_TAGS.items():
        assert tags[tag].mean() == pytest.approx(spec["share"], abs=0.03)
    p = s["member_id"].map(small.truth.set_index("member_id")["dropout_prob"])
    assert np.corrcoef(s["nps"], np.log(p / (1 - p)))[0, 1] < -0.2


def test_surveys_leave_the_other_tables_unchanged(monkeypatch, small):
    import workbook.synth.feedback as synth_fb

    def no_surveys(*args, **kwargs):
        return None

    monkeypatch.setattr(synth_fb, "generate_surveys", no_surveys)
    plain = generate(Scenario.preset("retail_chain", n_members=1500, n_stores=6), random_state=11)
    assert plain.surveys is None
    for name, df in small.tables().items():
        pd.testing.assert_frame_equal(df, getattr(plain, name))


def test_surveys_are_deterministic_and_saved(small, tmp_path):
    from workbook.synth import load_dataset
    from workbook.synth.feedback import generate_surveys

    args = (small.transactions, small.members, small.truth, small.scenario.end)
    pd.testing.assert_frame_equal(generate_surveys(*args, 11), small.surveys)
    assert not generate_surveys(*args, 12)["nps"].equals(small.surveys["nps"])

    small.save(tmp_path, formats=("parquet",))
    back = load_dataset(tmp_path)
    pd.testing.assert_frame_equal(back.surveys, small.surveys)
    assert back.points_rules == small.points_rules
    assert "### `surveys`" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_check_refuses_surveys_of_unknown_members(small):
    import dataclasses

    broken = dataclasses.replace(small, surveys=small.surveys.assign(member_id="X"))
    with pytest.raises(WorkbookInputError, match="surveys.member_id"):
        broken.check()
    small.check()
