"""Tests for workbook.checks: correct answers pass, typical mistakes get the matching hint about
the method, the expected value is never shown, a pasted number does not pass, and no check raises
to the trainee (outside strict mode)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook import checks
from workbook.checks import METADATA_KEY, NOT_ANSWERED, CheckResult, ExerciseCheckError
from workbook.churn import ChurnModel, ChurnSplit, churn_metrics
from workbook.cohorts import cohort_table
from workbook.experiments import proportion_test, sample_size_proportions
from workbook.lifecycle import LifecycleRules, lifecycle_stages
from workbook.rfm import RFMScorer, rfm_table, segment, segment_summary
from workbook.tiers import TierPolicy


@pytest.fixture(autouse=True)
def trainee_mode(monkeypatch):
    """Checks behave as for a trainee (never raise) unless a test turns strict mode on."""
    monkeypatch.setenv("WORKBOOK_STRICT_CLAIMS", "0")


def failed(result: CheckResult, pattern: str = "") -> str:
    """Assert a ✗ result whose text matches ``pattern``; return the text."""
    assert isinstance(result, CheckResult)
    assert result.status == "failed", result.text()
    text = result.text()
    assert text.startswith("✗ 不对 (wrong)")
    assert "提示 (hint): " in text and result.hint
    assert re.search(pattern, text), text
    assert "应为" not in text  # never the expected value
    return text


def not_answered(result: CheckResult, pattern: str = "") -> str:
    assert result.status == "not_answered", result.text()
    text = result.text()
    assert text.startswith(NOT_ANSWERED) and "提示 (hint): " in text
    assert re.search(pattern, text), text
    return text


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


# --------------------------------------------------------------------------- engine


def test_result_display_text_html_and_metadata():
    res = CheckResult("failed", "share", "share = 25 不对 (wrong)", "用比例 <0-1>")
    assert res.text() == "✗ 不对 (wrong) · share: share = 25 不对 (wrong)\n提示 (hint): 用比例 <0-1>"
    assert repr(res) == str(res) == res.text()
    assert not res and not res.passed
    data, metadata = res._repr_mimebundle_()
    assert data["text/plain"] == res.text()
    assert "✗ 不对 (wrong)" in data["text/html"] and "&lt;0-1&gt;" in data["text/html"]  # escaped
    assert metadata == {METADATA_KEY: {"status": "failed", "name": "share",
                                       "message": "share = 25 不对 (wrong)", "hint": "用比例 <0-1>"}}
    assert CheckResult("passed", "x", "ok") and CheckResult("passed", "x", "ok").label == "✓ 通过 (passed)"
    assert CheckResult("not_answered", "x", "").label == "未作答 (not answered)"


def test_result_is_shown_by_ipython_as_html_and_text():
    from IPython.core.formatters import DisplayFormatter

    data, metadata = DisplayFormatter().format(CheckResult("passed", "x", "x = 1"))
    assert data["text/plain"] == "✓ 通过 (passed) · x: x = 1"
    assert "<div" in data["text/html"]
    assert metadata[METADATA_KEY]["status"] == "passed"


def test_error_keeps_what_hint_and_status():
    err = ExerciseCheckError("列不对 (wrong column)", "换一列 (use another column)")
    assert isinstance(err, AssertionError)
    assert str(err) == "✗ 不对 (wrong): 列不对 (wrong column)\n提示 (hint): 换一列 (use another column)"
    assert ExerciseCheckError("x", status="not_answered").status == "not_answered"
    with pytest.raises(ValueError):
        ExerciseCheckError("x", status="passed")


def _odd_result():
    """An answer of an unexpected shape: the comparison inside the check raises TypeError."""
    from types import SimpleNamespace

    return SimpleNamespace(abs_lift="x", p_value=None, ci_low=None, ci_high=None)


def test_unexpected_exception_in_a_check_is_a_result_not_a_traceback(ab):
    res = checks.check_ab_result(_odd_result(), ab)
    assert res.status == "error"
    assert res.text().startswith("✗ 检查不了 (cannot check)")
    assert "Traceback" not in res.text() and res.hint


def test_workbook_input_error_in_a_check_shows_its_message():
    # The package's own message (which names the bad value) is shown, without a traceback.
    res = checks.check_rfm_scores(pd.DataFrame({"x": [1]}), transactions="not a table")
    assert res.status == "error", res.text()
    assert "not a table" in res.message and "按提示修改参数格" in res.hint


def test_strict_mode_raises_for_wrong_answers_only(monkeypatch, ab):
    from workbook.checks import engine

    monkeypatch.setenv("WORKBOOK_STRICT_CLAIMS", "1")
    assert checks.check_number(25, 0.25).status == "failed"  # plain Python (doctests): never raises
    monkeypatch.setattr(engine, "_in_ipython", lambda: True)  # a notebook kernel under nbval
    with pytest.raises(ExerciseCheckError, match="share = 25 不对"):
        checks.check_number(25, 0.25, name="share")
    with pytest.raises(ExerciseCheckError, match="could not run"):
        checks.check_ab_result(_odd_result(), ab)
    # Unanswered tasks never raise, so student notebooks Run All to the end even under test.
    assert checks.check_number(None, 0.25).status == "not_answered"
    assert checks.check_number(0.25, 0.25).passed


@pytest.mark.parametrize("missing", [None, NotImplemented, ...])
def test_not_answered_short_circuits_before_any_computation(missing):
    # transactions=None would make the reference computation fail: the check must stop first.
    calls = [
        lambda: checks.check_rfm_scores(missing, None),
        lambda: checks.check_rfm_segments(missing, None),
        lambda: checks.check_top_segment(missing, None),
        lambda: checks.check_lifecycle_stages(missing, None),
        lambda: checks.check_stage_share(missing, None),
        lambda: checks.check_retention_matrix(missing, None),
        lambda: checks.check_cohort_matrix(missing, None),
        lambda: checks.check_sample_size(missing, baseline_rate=0.1, mde=0.02),
        lambda: checks.check_ab_result(missing, None),
        lambda: checks.check_ab_decision(missing, None),
        lambda: checks.check_tier_simulation(missing, None),
        lambda: checks.check_tier_policy(missing, None, 1.0),
        lambda: checks.check_train_cutoff(missing, "2024-10-01", 90),
        lambda: checks.check_churn_evaluation(missing, None, None),
        lambda: checks.check_best_model(missing, None),
        lambda: checks.check_frame(missing, pd.DataFrame({"x": [1]})),
        lambda: checks.check_number(missing, 1.0),
        lambda: checks.check_choice(missing, "a"),
    ]
    for call in calls:
        not_answered(call(), r"还是 .* \(still a placeholder\)")


def test_previous_task_missing_says_finish_it_first(tx):
    seg = segment(pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [4, 2]}))
    not_answered(checks.check_rfm_segments(seg, None), "先完成上一题.*scored")
    not_answered(checks.check_top_segment("champions", None), "先完成上一题.*segmented")
    not_answered(checks.check_churn_evaluation(pd.DataFrame(), None, None), "先完成上一题.*split")
    not_answered(checks.check_best_model("hgb", None), "先完成上一题.*split")


# --------------------------------------------------------------------------- check_frame


@pytest.fixture()
def expected():
    idx = pd.Index(["M1", "M2", "M3"], name="member_id")
    return pd.DataFrame({"recency_days": [45, 3, 10], "segment": ["lost", "champions", "loyal"]}, index=idx)


def test_check_frame_passes_in_any_row_order_and_after_reset_index(expected):
    res = checks.check_frame(expected.iloc[::-1], expected, name="rfm")
    assert res.passed
    assert res.text() == "✓ 通过 (passed) · rfm: 3 行 × 2 列都对 (all 3 rows × 2 columns correct)"
    assert checks.check_frame(expected.reset_index(), expected)


def test_check_frame_names_column_row_and_actual_value_but_not_the_expected(expected):
    wrong = expected.copy()
    wrong.loc["M1", "recency_days"] = 46
    res = checks.check_frame(wrong, expected, name="rfm", row_label="会员")
    failed(res)
    assert res.message == "rfm 的第 1 列 recency_days 的值不对 (wrong values): 例如 会员 M1 你的是 46 (1 of 3 rows differ)"
    assert "45" not in res.text()
    wrong = expected.assign(segment=["lost", "loyal", "loyal"])
    text = failed(checks.check_frame(wrong, expected, hints={"segment": "看 FM 分"}), "第 2 列 segment .* M2 你的是 loyal")
    assert "champions" not in text and "看 FM 分" in text


def test_check_frame_structural_mistakes(expected):
    failed(checks.check_frame(expected[["recency_days"]], expected), r"缺少列 \(missing columns\) \['segment'\]")
    failed(checks.check_frame(expected.iloc[:2], expected), r"少了 1 行 .*M3")
    extra = pd.concat([expected, expected.iloc[[0]].rename(index={"M1": "M9"})])
    failed(checks.check_frame(extra, expected), r"(?s)多了 1 行 .*M9.*散客")
    failed(checks.check_frame(pd.concat([expected, expected.iloc[[0]]]), expected), "重复的行")
    failed(checks.check_frame([1, 2, 3], expected), "应该是一个 DataFrame.*list")
    failed(checks.check_frame(expected.assign(recency_days=["a", "b", "c"]), expected), "第 1 列 recency_days 应该是数字")


def test_check_frame_series_answer_and_missing_values():
    exp = pd.DataFrame({"v": [1.0, np.nan]}, index=["x", "y"])
    assert checks.check_frame(pd.Series([1.0, np.nan], index=["x", "y"], name="v"), exp)
    failed(checks.check_frame(pd.DataFrame({"v": [1.0, 0.0]}, index=["x", "y"]), exp), "例如 行 \\(row\\) y 你的是 0")


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_check_frame_row_order_invariance_and_sensitivity(values, seed):
    exp = pd.DataFrame({"v": values}, index=pd.Index([f"M{i}" for i in range(len(values))], name="member_id"))
    rng = np.random.default_rng(seed)
    shuffled = exp.iloc[rng.permutation(len(exp))]
    assert checks.check_frame(shuffled, exp).passed
    k = int(rng.integers(len(exp)))
    bumped = exp.copy()
    bumped.iloc[k, 0] = bumped.iloc[k, 0] + 1.0 + abs(bumped.iloc[k, 0]) * 1e-3
    res = checks.check_frame(bumped, exp)
    assert res.status == "failed" and f"M{k} 你的是" in res.message


def test_check_number_and_choice():
    assert checks.check_number(np.float64(0.25), 0.25, name="share")
    text = failed(checks.check_number(25, 0.25, name="share"), "share = 25 不对")
    assert "0.25" not in text
    failed(checks.check_number("0.25", 0.25), "应该是一个数字")
    failed(checks.check_number(True, 1.0), "应该是一个数字")
    failed(checks.check_choice("HGB", "hgb", choices=["hgb", "logistic"]), "不是可选项")
    assert checks.check_choice(np.True_, True, choices=[True, False])


# --------------------------------------------------------------------------- RFM


def test_rfm_scores_pass_on_reference_and_hand_values(tx):
    scored = scored_of(tx)
    # Hand-computed measures (see the fixture's docstring).
    assert scored["recency_days"].to_dict() == {"a": 0, "b": 5, "c": 2}
    assert scored["frequency"].to_dict() == {"a": 2, "b": 1, "c": 1}
    assert scored["monetary_total"].to_dict() == {"a": 30.0, "b": 3.0, "c": 8.0}
    assert checks.check_rfm_scores(scored, tx, bins=3).passed


def test_rfm_off_by_one_recency_gets_whole_days_hint(tx):
    wrong = scored_of(tx).assign(recency_days=lambda d: d["recency_days"] + 1)
    text = failed(checks.check_rfm_scores(wrong, tx, bins=3),
                  r"第 1 列 recency_days .*会员 \(member\) a 你的是 1 \(3 of 3")
    assert "差一天 (off by one)" in text


def test_rfm_returns_counted_as_purchases_gets_returns_hint(tx):
    wrong = scored_of(tx)
    wrong.loc["b", "frequency"] = 2
    assert "退货 (is_return) 不算购买" in failed(checks.check_rfm_scores(wrong, tx, bins=3), "frequency")


def test_rfm_reversed_recency_score_gets_inverse_hint(tx):
    scored = scored_of(tx)
    wrong = scored.assign(r_score=4 - scored["r_score"])
    assert "R 分数是反向的" in failed(checks.check_rfm_scores(wrong, tx, bins=3), "r_score")


def test_rfm_walk_in_row_is_an_extra_row(tx):
    wrong = pd.concat([scored_of(tx), scored_of(tx).iloc[[0]].rename(index={"a": "walk-in"})])
    assert "散客" in failed(checks.check_rfm_scores(wrong, tx, bins=3), "多了 1 行.*walk-in")


def test_segments_and_top_segment():
    scored = pd.DataFrame({"r_score": [5, 1, 3, 5], "f_score": [5, 1, 3, 4], "m_score": [4, 2, 3, 5],
                           "monetary_total": [900.0, 20.0, 100.0, 800.0]}, index=list("abcd"))
    seg = segment(scored)
    assert checks.check_rfm_segments(seg, scored)
    wrong = seg.copy()
    wrong["segment"] = wrong["segment"].astype(str)
    wrong.loc["b", "segment"] = "hibernating"
    text = failed(checks.check_rfm_segments(wrong, scored), r"会员 \(member\) b 你的是 hibernating")
    assert "FM = round_half_up" in text and "lost" not in text
    summary = segment_summary(seg)
    assert checks.check_top_segment("champions", seg, summary=summary)  # a and d: 1700 of 1820 CNY
    failed(checks.check_top_segment("冠军客户", seg, summary=summary), "分群名称")
    text = failed(checks.check_top_segment("lost", seg, summary=summary), "top_segment = 'lost' 不对")
    assert "champions" not in text


def test_top_segment_needs_the_summary_it_comes_from():
    seg = pd.DataFrame({"segment": ["a", "a", "b"], "monetary_total": [1.0, 2.0, 5.0]})
    # Typing the right code without the table it comes from does not pass.
    not_answered(checks.check_top_segment("b", seg), "summary 还是 None")
    wrong_summary = segment_summary(seg).assign(revenue=[9.0, 1.0])
    failed(checks.check_top_segment("b", seg, summary=wrong_summary), "revenue 的值不对")


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
    stages = lifecycle_stages(tx, members, analysis_date="2024-06-01")
    assert stages["stage"].astype(str).tolist() == ["reactivated", "sleeping", "churned", "potential"]
    assert checks.check_lifecycle_stages(stages, tx, members, analysis_date="2024-06-01")
    wrong = stages.assign(stage=["reactivated", "churned", "churned", "potential"])
    text = failed(checks.check_lifecycle_stages(wrong, tx, members, analysis_date="2024-06-01"),
                  r"会员 \(member\) b 你的是 churned")
    assert "sleeping_days=180" in text


def test_lifecycle_forgetting_members_misses_potential(lifecycle_data):
    tx, members = lifecycle_data
    no_members = lifecycle_stages(tx, analysis_date="2024-06-01")
    text = failed(checks.check_lifecycle_stages(no_members, tx, members, analysis_date="2024-06-01"), "少了 1 行.*d")
    assert "data.members" in text


def test_lifecycle_custom_rules_are_used(lifecycle_data):
    tx, members = lifecycle_data
    rules = LifecycleRules(active_days=60, sleeping_days=90)
    strict = lifecycle_stages(tx, members, analysis_date="2024-06-01", rules=rules)
    assert strict.loc["b", "stage"] == "churned"  # 92 days since 2024-03-01 >= 90
    assert checks.check_lifecycle_stages(strict, tx, members, rules=rules, analysis_date="2024-06-01")
    failed(checks.check_lifecycle_stages(lifecycle_stages(tx, members, analysis_date="2024-06-01"), tx, members, rules=rules,
                                         analysis_date="2024-06-01"), "你的是 sleeping")


def test_stage_share_checks_the_shares_table_and_the_number(lifecycle_data):
    tx, members = lifecycle_data
    kw = {"stage": "sleeping", "analysis_date": "2024-06-01"}
    shares = lifecycle_stages(tx, members, analysis_date="2024-06-01")["stage"].value_counts(normalize=True)
    assert checks.check_stage_share(0.25, tx, members, shares=shares, **kw)
    assert "请用小数" in failed(checks.check_stage_share(25.0, tx, members, shares=shares, **kw))
    assert "这是人数" in failed(checks.check_stage_share(1, tx, members, shares=shares, **kw))
    # The right number typed in alone, or next to a made-up table, does not pass.
    not_answered(checks.check_stage_share(0.25, tx, members, **kw), "stage_shares 还是 None")
    failed(checks.check_stage_share(0.25, tx, members, shares=pd.Series({"sleeping": 0.25}), **kw), "对不上")
    counts = lifecycle_stages(tx, analysis_date="2024-06-01")["stage"].value_counts(normalize=True)  # no members
    failed(checks.check_stage_share(0.25, tx, members, shares=counts, **kw))


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
    assert "不是 0" in failed(checks.check_retention_matrix(retention.fillna(0.0), cohort_tx), "你的是 0")
    counts = cohort_table(cohort_tx, normalize=False)
    assert "normalize=True" in failed(checks.check_retention_matrix(counts, cohort_tx), "第 1 列 0 ")
    failed(checks.check_retention_matrix(cohort_table(cohort_tx, shape="long"), cohort_tx), "长表")


def test_cohort_matrix_revenue(cohort_tx):
    cum = cohort_table(cohort_tx, metric="revenue", normalize=False, cumulative=True)
    assert checks.check_cohort_matrix(cum, cohort_tx, metric="revenue", normalize=False, cumulative=True)
    text = failed(checks.check_cohort_matrix(cohort_table(cohort_tx, metric="revenue", normalize=False), cohort_tx,
                                             metric="revenue", normalize=False, cumulative=True),
                  "第 2 列 1 .*你的是 20")
    assert "60" not in text


# --------------------------------------------------------------------------- experiments


def _plan(mdes=(0.01, 0.02, 0.03), factor=1):
    plan = pd.DataFrame({"mde": list(mdes)})
    plan["n_per_arm"] = plan["mde"].apply(lambda m: factor * sample_size_proportions(0.10, m))
    return plan


def test_sample_size_published_value_and_hints():
    # statsmodels/NormalIndPower: 10% -> 12% at alpha 0.05, power 0.8 needs 3835 per arm.
    plan = _plan()
    res = checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, plan=plan)
    assert res.passed and "3835" in res.text()
    text = failed(checks.check_sample_size(7670, baseline_rate=0.10, mde=0.02, plan=plan), "两组的总人数")
    assert "3835" not in text  # the leak of issue 10: "应为 3835 人"
    failed(checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, relative=True,
                                    plan=pd.DataFrame({"mde": [0.1, 0.2, 0.3]}).assign(
                                        n_per_arm=lambda d: d["mde"].apply(
                                            lambda m: sample_size_proportions(0.10, m, relative=True)))),
           "mde 的口径不对")
    failed(checks.check_sample_size(3834.2, baseline_rate=0.10, mde=0.02, plan=plan), "向上取整")


def test_sample_size_pasted_number_does_not_pass():
    not_answered(checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02), "power_plan 还是 None")
    text = failed(checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, plan=_plan(factor=2)),
                  "power_plan.*n_per_arm 的值不对|第 1 列 n_per_arm")
    assert "两组的总人数" in text
    fake = _plan()
    fake.loc[0, "n_per_arm"] = 100
    failed(checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, plan=fake), "你的是 100")
    failed(checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, plan=_plan(mdes=(0.02,))), "至少要有 3 个")
    failed(checks.check_sample_size(3835, baseline_rate=0.10, mde=0.02, plan=[3835]), "mde 和 n_per_arm")


@pytest.fixture()
def ab():
    return pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
                         "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})


def test_ab_result_pass_swapped_and_wrong_type(ab):
    assert checks.check_ab_result(proportion_test(ab), ab)
    swapped = proportion_test(ab, control="treatment", treatment="control")
    assert "搞反" in failed(checks.check_ab_result(swapped, ab), "符号反了")
    failed(checks.check_ab_result(0.0211, ab), "ProportionTestResult")
    one_sided = proportion_test(ab, alternative="larger")
    text = failed(checks.check_ab_result(one_sided, ab), "p_value")
    assert "单侧/双侧" in text and f"{proportion_test(ab).p_value:.6g}" not in text


def test_ab_decision_rule_is_tested_on_known_cases(ab):
    assert checks.check_ab_decision(lambda r: bool(r.significant and r.ci_low > 0), ab).passed
    assert checks.check_ab_decision(lambda r: r.ci_low > 0, ab).passed  # the same rule, written shorter
    # "significant" alone launches a campaign that made things worse.
    assert "r.ci_low 大于 0" in failed(checks.check_ab_decision(lambda r: r.significant, ab), "显著变差")
    failed(checks.check_ab_decision(lambda r: r.abs_lift > 0, ab), "不显著")
    # A typed-in decision is not a rule.
    failed(checks.check_ab_decision(True, ab), "应该是一个函数")
    failed(checks.check_ab_decision(lambda r: True, ab), "判断错了")
    failed(checks.check_ab_decision(lambda r: "yes", ab), "True 或 False")
    failed(checks.check_ab_decision(lambda r: r.no_such_field, ab), "AttributeError")

    def unanswered(r):
        """Docstring only: the student version of the task."""

    not_answered(checks.check_ab_decision(unanswered, ab), "还没有返回判断")


# --------------------------------------------------------------------------- tiers


@pytest.fixture()
def tier_tx():
    return pd.DataFrame({"member_id": ["a", "a", "b"],
                         "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
                         "amount": [2500.0, 1000.0, 300.0]})


def test_tier_policy_budget(tier_tx):
    # Default policy on this data costs 60 CNY (see the check_tier_policy docstring).
    assert checks.check_tier_policy(TierPolicy.default(), tier_tx, budget=100)
    text = failed(checks.check_tier_policy(TierPolicy.default(), tier_tx, budget=50),
                  "超出预算.*年成本 60 元 > 预算 50 元，超出 10 元")
    assert "成本最高的等级是 silver" in text
    nobody = TierPolicy.default().replace(thresholds=(0, 1e6, 2e6, 3e6))
    failed(checks.check_tier_policy(nobody, tier_tx, budget=100, min_share_above_base=0.05), "门槛太高")
    failed(checks.check_tier_policy({"thresholds": (0, 1000)}, tier_tx, budget=100), "应该是一个 TierPolicy")


def test_tier_simulation(tier_tx):
    from workbook.tiers import simulate_policy

    sim = simulate_policy(tier_tx, margin_rate=0.5)
    assert checks.check_tier_simulation(sim, tier_tx, margin_rate=0.5)
    text = failed(checks.check_tier_simulation(simulate_policy(tier_tx, margin_rate=0.4), tier_tx, margin_rate=0.5),
                  "break_even_incremental_spend")
    assert "margin_rate" in text


# --------------------------------------------------------------------------- churn


def test_train_cutoff():
    assert checks.check_train_cutoff("2024-07-03", "2024-10-01", 90)  # window ends exactly at the test cutoff
    text = failed(checks.check_train_cutoff("2024-07-04", "2024-10-01", 90), "label leakage")
    assert "2024-07-03" not in text  # the latest valid cutoff is not given away
    failed(checks.check_train_cutoff("2023-02-01", "2024-10-01", 90, first_date="2023-01-01"), "太早.*只有 31 天")
    failed(checks.check_train_cutoff("next monday", "2024-10-01", 90), "不是日期")


@pytest.fixture()
def churn_split():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.integers(0, 365, 600).astype(float),
                      "spend_90d": rng.gamma(2.0, 100.0, 600)}, index=[f"M{i}" for i in range(600)])
    y = pd.Series((rng.random(600) < X["recency_days"] / 365).astype(int), index=X.index, name="churned")
    return ChurnSplit(X.iloc[:300], y.iloc[:300], X.iloc[300:], y.iloc[300:])


def test_churn_evaluation(churn_split):
    model = ChurnModel("logistic", random_state=0).fit(churn_split.X_train, churn_split.y_train)
    p_test = model.predict_proba(churn_split.X_test)
    right = churn_metrics(churn_split.y_test, p_test)
    assert checks.check_churn_evaluation(right, churn_split, p_test, model=model)
    on_train = churn_metrics(churn_split.y_train, model.predict_proba(churn_split.X_train))
    failed(checks.check_churn_evaluation(on_train, churn_split, p_test, model=model), "训练集上算的")
    text = failed(checks.check_churn_evaluation(churn_metrics(churn_split.y_test, 1 - p_test), churn_split, p_test),
                  "分数方向反了")
    assert f"{right['roc_auc'].iloc[0]:.3f}" not in text
    not_answered(checks.check_churn_evaluation(right, churn_split, None), "先完成上一题.*p_test")
    # Scores that are not the model's (e.g. typed in or from another model) do not pass.
    failed(checks.check_churn_evaluation(right, churn_split, p_test * 0.9, model=model), "不是 model 在测试集上的预测")
    failed(checks.check_churn_evaluation(right, churn_split, p_test[:10]), "one score per test member")
    failed(checks.check_churn_evaluation({"roc_auc": 0.9}, churn_split, p_test), "churn_metrics 返回的表")


def test_best_model_needs_the_comparison_table(churn_split):
    comparison = pd.concat([
        ChurnModel(k, random_state=0).fit(churn_split.X_train, churn_split.y_train)
        .evaluate(churn_split.X_test, churn_split.y_test) for k in ("logistic", "hgb")
    ])
    best = comparison["roc_auc"].idxmax()
    other = comparison["roc_auc"].idxmin()
    assert best != other
    assert checks.check_best_model(best, churn_split, comparison=comparison).passed
    text = failed(checks.check_best_model(other, churn_split, comparison=comparison), f"best_model = '{other}' 不对")
    assert f"{comparison['roc_auc'].max():.3f}" not in text  # the scores are not given away
    # The right name typed in alone, or with a table from other data, does not pass.
    not_answered(checks.check_best_model(best, churn_split), "comparison 还是 None")
    on_train = pd.concat([
        ChurnModel(k, random_state=0).fit(churn_split.X_train, churn_split.y_train)
        .evaluate(churn_split.X_train, churn_split.y_train) for k in ("logistic", "hgb")
    ])
    failed(checks.check_best_model(best, churn_split, comparison=on_train), "roc_auc 不对")
    failed(checks.check_best_model(best, churn_split, comparison=comparison.iloc[:1]), "应该有一行")
