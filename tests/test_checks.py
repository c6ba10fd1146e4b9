"""Tests for workbook.checks: correct answers pass, typical mistakes get the matching hint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook import checks
from workbook.checks import NOT_ANSWERED, ExerciseCheckError
from workbook.churn import ChurnModel, ChurnSplit, churn_metrics
from workbook.cohorts import cohort_table
from workbook.experiments import proportion_test
from workbook.lifecycle import LifecycleRules, lifecycle_stages
from workbook.rfm import RFMScorer, rfm_table, segment
from workbook.tiers import TierPolicy


@pytest.fixture()
def tx():
    """Three members and one walk-in; b returned part of a purchase.

    Analysis date (default) = 2024-01-11 00:00: recency (whole elapsed days) a = 0
    (6 hours), b = 5 (5.5 days), c = 2 (2 days 16 hours);
    frequency a = 2, b = 1, c = 1; net spend a = 30, b = 5 - 2 = 3, c = 8.
    """
    return pd.DataFrame({
        "member_id": ["a", "a", "b", "b", "c", None],
        "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-10 18:00", "2024-01-05 12:00",
                                     "2024-01-06 12:00", "2024-01-08 08:00", "2024-01-09 10:00"]),
        "amount": [10.0, 20.0, 5.0, -2.0, 8.0, 99.0],
        "is_return": [False, False, False, True, False, False],
    })


def scored_of(tx, bins=3):
    return RFMScorer(bins=bins).fit_transform(rfm_table(tx))


def message(excinfo) -> str:
    return str(excinfo.value)


# --------------------------------------------------------------------------- error type


def test_error_is_assertion_with_what_and_hint():
    err = ExerciseCheckError("列不对 (wrong column)", "换一列 (use another column)")
    assert isinstance(err, AssertionError)
    assert str(err) == "✗ 列不对 (wrong column)\n提示 (hint): 换一列 (use another column)"
    assert str(ExerciseCheckError("x")) == "✗ x"


@pytest.mark.parametrize("missing", [None, NotImplemented, ...])
def test_not_answered_short_circuits_before_any_computation(missing):
    # transactions=None would make the reference computation fail: the check must stop first.
    calls = [
        lambda: checks.check_rfm_scores(missing, None),
        lambda: checks.check_lifecycle_stages(missing, None),
        lambda: checks.check_retention_matrix(missing, None),
        lambda: checks.check_sample_size(missing, baseline_rate=0.1, mde=0.02),
        lambda: checks.check_ab_result(missing, None),
        lambda: checks.check_tier_policy(missing, None, 1.0),
        lambda: checks.check_train_cutoff(missing, "2024-10-01", 90),
        lambda: checks.check_churn_evaluation(missing, None, None),
        lambda: checks.check_best_model(missing, None),
        lambda: checks.check_frame(missing, pd.DataFrame({"x": [1]})),
    ]
    for call in calls:
        with pytest.raises(ExerciseCheckError, match=r"还没有作答 \(not answered yet\)") as excinfo:
            call()
        assert "提示 (hint)" in message(excinfo)


# --------------------------------------------------------------------------- check_frame


@pytest.fixture()
def expected():
    idx = pd.Index(["M1", "M2", "M3"], name="member_id")
    return pd.DataFrame({"recency_days": [45, 3, 10], "segment": ["lost", "champions", "loyal"]}, index=idx)


def test_check_frame_passes_in_any_row_order_and_after_reset_index(expected, capsys):
    assert checks.check_frame(expected.iloc[::-1], expected, name="rfm") is True
    assert "✓ rfm 正确 (correct): 3 行 × 2 列" in capsys.readouterr().out
    assert checks.check_frame(expected.reset_index(), expected) is True


def test_check_frame_names_column_row_expected_and_actual(expected):
    wrong = expected.copy()
    wrong.loc["M1", "recency_days"] = 46
    with pytest.raises(ExerciseCheckError) as excinfo:
        checks.check_frame(wrong, expected, name="rfm", row_label="会员")
    assert excinfo.value.what == (
        "第 1 列 recency_days 的值不对 (wrong values): 会员 M1 应为 45，你的是 46 (1 of 3 rows differ)"
    )
    wrong = expected.assign(segment=["lost", "loyal", "loyal"])
    with pytest.raises(ExerciseCheckError, match="第 2 列 segment .* M2 应为 champions，你的是 loyal"):
        checks.check_frame(wrong, expected, hints={"segment": "看 FM 分"})


def test_check_frame_structural_mistakes(expected):
    with pytest.raises(ExerciseCheckError, match=r"缺少列 \(missing columns\) \['segment'\]"):
        checks.check_frame(expected[["recency_days"]], expected)
    with pytest.raises(ExerciseCheckError, match=r"少了 1 行 .*M3"):
        checks.check_frame(expected.iloc[:2], expected)
    extra = pd.concat([expected, expected.iloc[[0]].rename(index={"M1": "M9"})])
    with pytest.raises(ExerciseCheckError, match=r"(?s)多了 1 行 .*M9.*散客"):
        checks.check_frame(extra, expected)
    with pytest.raises(ExerciseCheckError, match="重复的行"):
        checks.check_frame(pd.concat([expected, expected.iloc[[0]]]), expected)
    with pytest.raises(ExerciseCheckError, match="应该是一个 DataFrame.*list"):
        checks.check_frame([1, 2, 3], expected)
    with pytest.raises(ExerciseCheckError, match="第 1 列 recency_days 应该是数字"):
        checks.check_frame(expected.assign(recency_days=["a", "b", "c"]), expected)


def test_check_frame_series_answer_and_missing_values():
    exp = pd.DataFrame({"v": [1.0, np.nan]}, index=["x", "y"])
    assert checks.check_frame(pd.Series([1.0, np.nan], index=["x", "y"], name="v"), exp)
    with pytest.raises(ExerciseCheckError, match="y 应为 空值 NaN .*你的是 0"):
        checks.check_frame(pd.DataFrame({"v": [1.0, 0.0]}, index=["x", "y"]), exp)


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_check_frame_row_order_invariance_and_sensitivity(values, seed):
    exp = pd.DataFrame({"v": values}, index=pd.Index([f"M{i}" for i in range(len(values))], name="member_id"))
    rng = np.random.default_rng(seed)
    shuffled = exp.iloc[rng.permutation(len(exp))]
    assert checks.check_frame(shuffled, exp)
    k = int(rng.integers(len(exp)))
    bumped = exp.copy()
    bumped.iloc[k, 0] = bumped.iloc[k, 0] + 1.0 + abs(bumped.iloc[k, 0]) * 1e-3
    with pytest.raises(ExerciseCheckError, match=f"member_id|行 \\(row\\) M{k} 应为"):
        checks.check_frame(bumped, exp)


def test_check_number_and_choice(capsys):
    assert checks.check_number(np.float64(0.25), 0.25, name="share")
    with pytest.raises(ExerciseCheckError, match="share 不对 .*应为 0.25，你的是 25"):
        checks.check_number(25, 0.25, name="share")
    with pytest.raises(ExerciseCheckError, match="应该是一个数字"):
        checks.check_number("0.25", 0.25)
    with pytest.raises(ExerciseCheckError, match="应该是一个数字"):
        checks.check_number(True, 1.0)
    with pytest.raises(ExerciseCheckError, match="不是可选项"):
        checks.check_choice("HGB", "hgb", choices=["hgb", "logistic"])
    assert checks.check_choice(np.True_, True, choices=[True, False])


# --------------------------------------------------------------------------- RFM


def test_rfm_scores_pass_on_reference_and_hand_values(tx):
    scored = scored_of(tx)
    # Hand-computed measures (see the fixture's docstring).
    assert scored["recency_days"].to_dict() == {"a": 0, "b": 5, "c": 2}
    assert scored["frequency"].to_dict() == {"a": 2, "b": 1, "c": 1}
    assert scored["monetary_total"].to_dict() == {"a": 30.0, "b": 3.0, "c": 8.0}
    assert checks.check_rfm_scores(scored, tx, bins=3)


def test_rfm_off_by_one_recency_gets_whole_days_hint(tx):
    wrong = scored_of(tx).assign(recency_days=lambda d: d["recency_days"] + 1)
    with pytest.raises(ExerciseCheckError, match="第 1 列 recency_days .*会员 \\(member\\) a 应为 0，你的是 1 \\(3 of 3") as excinfo:
        checks.check_rfm_scores(wrong, tx, bins=3)
    assert "差一天 (off by one)" in message(excinfo)


def test_rfm_returns_counted_as_purchases_gets_returns_hint(tx):
    wrong = scored_of(tx)
    wrong.loc["b", "frequency"] = 2
    with pytest.raises(ExerciseCheckError, match="frequency") as excinfo:
        checks.check_rfm_scores(wrong, tx, bins=3)
    assert "退货 (is_return) 不算购买" in message(excinfo)


def test_rfm_reversed_recency_score_gets_inverse_hint(tx):
    scored = scored_of(tx)
    wrong = scored.assign(r_score=4 - scored["r_score"])
    with pytest.raises(ExerciseCheckError, match="r_score") as excinfo:
        checks.check_rfm_scores(wrong, tx, bins=3)
    assert "R 分数是反向的" in message(excinfo)


def test_rfm_walk_in_row_is_an_extra_row(tx):
    wrong = pd.concat([scored_of(tx), scored_of(tx).iloc[[0]].rename(index={"a": "walk-in"})])
    with pytest.raises(ExerciseCheckError, match="多了 1 行.*walk-in") as excinfo:
        checks.check_rfm_scores(wrong, tx, bins=3)
    assert "散客" in message(excinfo)


def test_segments_and_top_segment():
    scored = pd.DataFrame({"r_score": [5, 1, 3, 5], "f_score": [5, 1, 3, 4], "m_score": [4, 2, 3, 5],
                           "monetary_total": [900.0, 20.0, 100.0, 800.0]}, index=list("abcd"))
    seg = segment(scored)
    assert checks.check_rfm_segments(seg, scored)
    wrong = seg.copy()
    wrong["segment"] = wrong["segment"].astype(str)
    wrong.loc["b", "segment"] = "hibernating"
    with pytest.raises(ExerciseCheckError, match="会员 \\(member\\) b 应为 lost，你的是 hibernating") as excinfo:
        checks.check_rfm_segments(wrong, scored)
    assert "FM = round_half_up" in message(excinfo)
    assert checks.check_top_segment("champions", seg)  # a and d: 1700 of 1820 CNY
    with pytest.raises(ExerciseCheckError, match="分群名称"):
        checks.check_top_segment("冠军客户", seg)
    with pytest.raises(ExerciseCheckError, match="top_segment = 'lost' 不对"):
        checks.check_top_segment("lost", seg)


# --------------------------------------------------------------------------- lifecycle


@pytest.fixture()
def lifecycle_data():
    """Docstring example of lifecycle_stages: a reactivated, b sleeping, c churned, d potential."""
    tx = pd.DataFrame({"member_id": ["a", "a", "b", "c"],
                       "timestamp": pd.to_datetime(["2023-01-05", "2024-05-20", "2024-03-01", "2023-06-01"]),
                       "amount": [10.0, 20.0, 5.0, 8.0]})
    members = pd.DataFrame({"member_id": ["a", "b", "c", "d"],
                            "join_date": pd.to_datetime(["2023-01-01", "2024-02-01", "2023-05-01", "2024-05-01"])})
    return tx, members


def test_lifecycle_pass_and_wrong_stage(lifecycle_data):
    tx, members = lifecycle_data
    stages = lifecycle_stages(tx, members, "2024-06-01")
    assert stages["stage"].astype(str).tolist() == ["reactivated", "sleeping", "churned", "potential"]
    assert checks.check_lifecycle_stages(stages, tx, members, analysis_date="2024-06-01")
    wrong = stages.assign(stage=["reactivated", "churned", "churned", "potential"])
    with pytest.raises(ExerciseCheckError, match="会员 \\(member\\) b 应为 sleeping，你的是 churned") as excinfo:
        checks.check_lifecycle_stages(wrong, tx, members, analysis_date="2024-06-01")
    assert "sleeping_days=180" in message(excinfo)


def test_lifecycle_forgetting_members_misses_potential(lifecycle_data):
    tx, members = lifecycle_data
    no_members = lifecycle_stages(tx, analysis_date="2024-06-01")
    with pytest.raises(ExerciseCheckError, match="少了 1 行.*d") as excinfo:
        checks.check_lifecycle_stages(no_members, tx, members, analysis_date="2024-06-01")
    assert "data.members" in message(excinfo)


def test_lifecycle_custom_rules_are_used(lifecycle_data):
    tx, members = lifecycle_data
    rules = LifecycleRules(active_days=60, sleeping_days=90)
    strict = lifecycle_stages(tx, members, "2024-06-01", rules)
    assert strict.loc["b", "stage"] == "churned"  # 92 days since 2024-03-01 >= 90
    assert checks.check_lifecycle_stages(strict, tx, members, rules=rules, analysis_date="2024-06-01")
    with pytest.raises(ExerciseCheckError, match="应为 churned，你的是 sleeping"):
        checks.check_lifecycle_stages(lifecycle_stages(tx, members, "2024-06-01"), tx, members, rules=rules,
                                      analysis_date="2024-06-01")


def test_stage_share_hints(lifecycle_data):
    tx, members = lifecycle_data
    assert checks.check_stage_share(0.25, tx, members, stage="sleeping", analysis_date="2024-06-01")
    with pytest.raises(ExerciseCheckError, match="请用小数"):
        checks.check_stage_share(25.0, tx, members, stage="sleeping", analysis_date="2024-06-01")
    with pytest.raises(ExerciseCheckError, match="这是人数"):
        checks.check_stage_share(1, tx, members, stage="sleeping", analysis_date="2024-06-01")


# --------------------------------------------------------------------------- cohorts


@pytest.fixture()
def cohort_tx():
    """Docstring example of cohort_table: January cohort {a, b}, February cohort {c}."""
    return pd.DataFrame({"member_id": ["a", "a", "b", "b", "c"],
                         "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10", "2024-01-20",
                                                      "2024-03-05", "2024-02-14"]),
                         "amount": [10.0, 20.0, 30.0, 40.0, 50.0]})


def test_retention_matrix_pass_and_hints(cohort_tx):
    retention = cohort_table(cohort_tx)
    assert retention.to_numpy().tolist()[0] == [1.0, 0.5, 0.5]
    assert checks.check_retention_matrix(retention, cohort_tx)
    with pytest.raises(ExerciseCheckError, match="应为 空值 NaN.*你的是 0") as excinfo:
        checks.check_retention_matrix(retention.fillna(0.0), cohort_tx)
    assert "不是 0" in message(excinfo)
    counts = cohort_table(cohort_tx, normalize=False)
    with pytest.raises(ExerciseCheckError, match="第 1 列 0 ") as excinfo:
        checks.check_retention_matrix(counts, cohort_tx)
    assert "normalize=True" in message(excinfo)
    with pytest.raises(ExerciseCheckError, match="长表"):
        checks.check_retention_matrix(cohort_table(cohort_tx, shape="long"), cohort_tx)


def test_cohort_matrix_revenue(cohort_tx):
    cum = cohort_table(cohort_tx, metric="revenue", normalize=False, cumulative=True)
    assert checks.check_cohort_matrix(cum, cohort_tx, metric="revenue", normalize=False, cumulative=True)
    with pytest.raises(ExerciseCheckError, match="第 2 列 1 .*应为 60，你的是 20"):
        checks.check_cohort_matrix(cohort_table(cohort_tx, metric="revenue", normalize=False), cohort_tx,
                                   metric="revenue", normalize=False, cumulative=True)


# --------------------------------------------------------------------------- experiments


def test_sample_size_published_value_and_hints():
    # statsmodels/NormalIndPower: 10% -> 12% at alpha 0.05, power 0.8 needs 3835 per arm.
    assert checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02)
    with pytest.raises(ExerciseCheckError, match="两组的总人数"):
        checks.check_sample_size(7670, baseline_rate=0.10, mde=0.02)
    with pytest.raises(ExerciseCheckError, match="mde 的口径不对"):
        checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, relative=True)
    with pytest.raises(ExerciseCheckError, match="向上取整"):
        checks.check_sample_size(3834.2, baseline_rate=0.10, mde=0.02)


@pytest.fixture()
def ab():
    return pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
                         "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})


def test_ab_result_pass_swapped_and_wrong_type(ab):
    assert checks.check_ab_result(proportion_test(ab), ab)
    swapped = proportion_test(ab, control="treatment", treatment="control")
    with pytest.raises(ExerciseCheckError, match="符号反了") as excinfo:
        checks.check_ab_result(swapped, ab)
    assert "搞反" in message(excinfo)
    with pytest.raises(ExerciseCheckError, match="ProportionTestResult"):
        checks.check_ab_result(0.0211, ab)
    one_sided = proportion_test(ab, alternative="larger")
    with pytest.raises(ExerciseCheckError, match="p_value") as excinfo:
        checks.check_ab_result(one_sided, ab)
    assert "单侧/双侧" in message(excinfo)


def test_ab_decision(ab):
    # p = 0.0211 and the CI lies above 0: launch.
    assert checks.check_ab_decision(True, ab)
    with pytest.raises(ExerciseCheckError, match="launch = False 不对") as excinfo:
        checks.check_ab_decision(False, ab)
    assert "p = 0.0211" in message(excinfo)
    with pytest.raises(ExerciseCheckError, match="True 或 False"):
        checks.check_ab_decision("yes", ab)


# --------------------------------------------------------------------------- tiers


@pytest.fixture()
def tier_tx():
    return pd.DataFrame({"member_id": ["a", "a", "b"],
                         "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
                         "amount": [2500.0, 1000.0, 300.0]})


def test_tier_policy_budget(tier_tx):
    # Default policy on this data costs 60 CNY (see the check_tier_policy docstring).
    assert checks.check_tier_policy(TierPolicy.default(), tier_tx, budget=100)
    with pytest.raises(ExerciseCheckError, match="超出预算.*年成本 60 元 > 预算 50 元，超出 10 元") as excinfo:
        checks.check_tier_policy(TierPolicy.default(), tier_tx, budget=50)
    assert "成本最高的等级是 silver" in message(excinfo)
    nobody = TierPolicy.default().replace(thresholds=(0, 1e6, 2e6, 3e6))
    with pytest.raises(ExerciseCheckError, match="门槛太高"):
        checks.check_tier_policy(nobody, tier_tx, budget=100, min_share_above_base=0.05)
    with pytest.raises(ExerciseCheckError, match="应该是一个 TierPolicy"):
        checks.check_tier_policy({"thresholds": (0, 1000)}, tier_tx, budget=100)


def test_tier_simulation(tier_tx):
    from workbook.tiers import simulate_policy

    sim = simulate_policy(tier_tx, margin_rate=0.5)
    assert checks.check_tier_simulation(sim, tier_tx, margin_rate=0.5)
    with pytest.raises(ExerciseCheckError, match="break_even_incremental_spend") as excinfo:
        checks.check_tier_simulation(simulate_policy(tier_tx, margin_rate=0.4), tier_tx, margin_rate=0.5)
    assert "margin_rate" in message(excinfo)


# --------------------------------------------------------------------------- churn


def test_train_cutoff():
    assert checks.check_train_cutoff("2024-07-03", "2024-10-01", 90)  # window ends exactly at the test cutoff
    with pytest.raises(ExerciseCheckError, match="label leakage") as excinfo:
        checks.check_train_cutoff("2024-07-04", "2024-10-01", 90)
    assert "训练截点最晚是 2024-07-03" in message(excinfo)
    with pytest.raises(ExerciseCheckError, match="太早.*只有 31 天"):
        checks.check_train_cutoff("2023-02-01", "2024-10-01", 90, first_date="2023-01-01")
    with pytest.raises(ExerciseCheckError, match="不是日期"):
        checks.check_train_cutoff("next monday", "2024-10-01", 90)


@pytest.fixture()
def churn_split():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.integers(0, 365, 600).astype(float),
                      "spend_90d": rng.gamma(2.0, 100.0, 600)}, index=[f"M{i}" for i in range(600)])
    y = pd.Series((rng.random(600) < X["recency_days"] / 365).astype(int), index=X.index, name="churned")
    return ChurnSplit(X.iloc[:300], y.iloc[:300], X.iloc[300:], y.iloc[300:])


def test_churn_evaluation(churn_split):
    model = ChurnModel("logistic", seed=0).fit(churn_split.X_train, churn_split.y_train)
    p_test = model.predict_proba(churn_split.X_test)
    assert checks.check_churn_evaluation(churn_metrics(churn_split.y_test, p_test), churn_split, p_test, model=model)
    on_train = churn_metrics(churn_split.y_train, model.predict_proba(churn_split.X_train))
    with pytest.raises(ExerciseCheckError, match="训练集上算的"):
        checks.check_churn_evaluation(on_train, churn_split, p_test, model=model)
    with pytest.raises(ExerciseCheckError, match="分数方向反了"):
        checks.check_churn_evaluation(churn_metrics(churn_split.y_test, 1 - p_test), churn_split, p_test)
    with pytest.raises(ExerciseCheckError, match=NOT_ANSWERED.replace("(", r"\(").replace(")", r"\)") + ": p_test"):
        checks.check_churn_evaluation(churn_metrics(churn_split.y_test, p_test), churn_split, None)


def test_best_model(churn_split):
    scores = {k: ChurnModel(k, seed=0).fit(churn_split.X_train, churn_split.y_train)
              .evaluate(churn_split.X_test, churn_split.y_test)["roc_auc"].iloc[0] for k in ("logistic", "hgb")}
    best = max(scores, key=scores.get)
    other = min(scores, key=scores.get)
    assert best != other
    assert checks.check_best_model(best, churn_split)
    with pytest.raises(ExerciseCheckError, match=f"best_model = '{other}' 不对"):
        checks.check_best_model(other, churn_split)
