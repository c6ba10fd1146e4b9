"""Checks of exercise 8, points liability and breakage (``exercises/source/08_points_liability.ipynb``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbook.checks.engine import (
    ExerciseCheckError,
    compare_frame,
    compare_number,
    exercise_check,
    fmt,
    require_answer,
    require_previous,
)

__all__ = ["check_breakage_rate", "check_points_summary", "check_rule_change"]

_FIELDS = ["earned", "redeemed", "expired", "outstanding", "liability_yuan", "expiring_next_month"]
_RULE_HINT = ("积分清零规则要和参数格一致：expiry=EXPIRY, expiry_years=EXPIRY_YEARS（不写时默认是滚动 24 个月）"
              " (pass the expiry rule of the parameters cell).")
_HINTS = {
    "earned": "用参数格的日期作为 analysis_date（只统计这一天之前的交易）(use the date of the parameters cell).",
    "redeemed": "用参数格的日期作为 analysis_date（只统计这一天之前的交易）(use the date of the parameters cell).",
    "expired": _RULE_HINT,
    "outstanding": _RULE_HINT,
    "expiring_next_month": _RULE_HINT,
    "liability_yuan": "负债（元）= 有效积分 × 每积分成本：传入 cost_per_point_yuan=COST_PER_POINT "
                      "(liability = outstanding points x cost per point).",
}


def _as_summary(answer: object, name: str) -> pd.Series:
    if isinstance(answer, pd.DataFrame) and len(answer) == 1:
        answer = answer.iloc[0]
    if isinstance(answer, Mapping):
        answer = pd.Series(answer)
    if not isinstance(answer, pd.Series) or not all(f in answer.index for f in _FIELDS):
        raise ExerciseCheckError(
            f"{name} 应该是 points_summary 返回的结果（含 {_FIELDS}），你的是 {type(answer).__name__}",
            "直接把 workbook.points.points_summary(...) 的返回值赋给变量，不要手抄数字 (assign the returned Series).",
        )
    return answer


def _compare_summary(answer: object, expected: pd.Series, name: str) -> pd.Series:
    got = _as_summary(answer, name)
    for field in _FIELDS:  # six fields, the first difference is reported
        g, e = float(got[field]), float(expected[field])
        if not np.isclose(g, e, rtol=1e-9, atol=1e-6):
            raise ExerciseCheckError(f"{name}['{field}'] = {fmt(g)} 不对 (wrong)", _HINTS[field])
    return got


def _reference(transactions, *, expiry, expiry_years, expiry_months, analysis_date, cost_per_point_yuan):
    from workbook.points import points_summary

    return points_summary(transactions, expiry=expiry, expiry_years=expiry_years, expiry_months=expiry_months,
                          analysis_date=analysis_date, cost_per_point_yuan=cost_per_point_yuan)


@exercise_check
def check_points_summary(
    answer: object,
    transactions: pd.DataFrame,
    *,
    expiry: str = "year_end",
    expiry_years: int = 0,
    expiry_months: int = 24,
    analysis_date: object | None = None,
    cost_per_point_yuan: float = 0.01,
    name: str = "summary",
) -> str:
    """Check a :func:`workbook.points.points_summary` result (points, liability, expiring points).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.points import points_summary
    >>> tx = pd.DataFrame({"member_id": ["a", "a"], "timestamp": pd.to_datetime(["2024-04-01", "2024-06-01"]),
    ...                    "points_earned": [500, 0], "points_redeemed": [0, 200]})
    >>> check_points_summary(points_summary(tx, expiry="year_end", analysis_date="2024-12-01"), tx,
    ...                      analysis_date="2024-12-01")
    ✓ 通过 (passed) · summary: 有效积分 300 分，账面负债 3 元，下月将清零 300 分
    >>> check_points_summary(points_summary(tx, analysis_date="2024-12-01"), tx, analysis_date="2024-12-01").status
    'failed'
    """
    require_answer(answer, name, "用 workbook.points.points_summary(data.transactions, expiry=..., analysis_date=..., "
                                 "cost_per_point_yuan=...)。")
    expected = _reference(transactions, expiry=expiry, expiry_years=expiry_years, expiry_months=expiry_months,
                          analysis_date=analysis_date, cost_per_point_yuan=cost_per_point_yuan)
    got = _compare_summary(answer, expected, name)
    return (f"有效积分 {float(got['outstanding']):,.0f} 分，账面负债 {float(got['liability_yuan']):,.0f} 元，"
            f"下月将清零 {float(got['expiring_next_month']):,.0f} 分")


@exercise_check
def check_breakage_rate(
    answer: object,
    year_end: object,
    transactions: pd.DataFrame,
    *,
    expiry: str = "year_end",
    expiry_years: int = 0,
    expiry_months: int = 24,
    analysis_date: object | None = None,
    cost_per_point_yuan: float = 0.01,
    name: str = "breakage_rate",
) -> str:
    """Check the breakage rate and the summary it comes from (``year_end``).

    Breakage = points expired / points earned in the months whose expiry has
    passed (``matured_earned``): the share of settled points never used.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.points import points_summary
    >>> tx = pd.DataFrame({"member_id": ["a", "a"], "timestamp": pd.to_datetime(["2024-04-01", "2024-06-01"]),
    ...                    "points_earned": [500, 0], "points_redeemed": [0, 200]})
    >>> ye = points_summary(tx, expiry="year_end", analysis_date="2025-01-01")
    >>> check_breakage_rate(ye["breakage_rate"], ye, tx, analysis_date="2025-01-01")
    ✓ 通过 (passed) · breakage_rate: breakage_rate = 0.6（60.0% 的已到期积分没有被兑换）
    >>> check_breakage_rate(300 / 200, ye, tx, analysis_date="2025-01-01").hint
    '分母不是已兑换积分：沉淀率 = 已清零积分 ÷ 已到期批次发放的积分 (expired / matured_earned).'
    """
    require_previous(year_end, "year_end")
    require_answer(answer, name, "从 year_end 里取出 'breakage_rate'，或用 expired ÷ matured_earned 计算。")
    expected = _reference(transactions, expiry=expiry, expiry_years=expiry_years, expiry_months=expiry_months,
                          analysis_date=analysis_date, cost_per_point_yuan=cost_per_point_yuan)
    got = _compare_summary(year_end, expected, "year_end")
    rate = float(expected["breakage_rate"])
    if np.isnan(rate):
        raise ExerciseCheckError(
            "还没有到期的积分 (no points have matured yet)：沉淀率无从计算",
            "把 analysis_date 设在第一次清零之后（例如 ANALYSIS_DATE = None，即数据的最后一天之后）。",
            status="error",
        )
    hint = "沉淀率 = 已清零积分 ÷ 已到期批次发放的积分 (expired / matured_earned)."
    if isinstance(answer, (int, float, np.number)) and not isinstance(answer, bool):
        a = float(answer)
        expired, redeemed = float(got["expired"]), float(got["redeemed"])
        if redeemed > 0 and np.isclose(a, expired / redeemed, rtol=1e-6):
            hint = "分母不是已兑换积分：" + hint
        elif np.isclose(a, 1 - rate, rtol=1e-6):
            hint = "这是兑换掉的比例；沉淀率是没被兑换、被清零的那部分 (breakage = 1 - redeemed share)."
        elif np.isclose(a, 100 * rate, rtol=1e-6):
            hint = "用比例而不是百分数 (a share between 0 and 1, not a percentage)."
    text = compare_number(answer, rate, name=name, rtol=1e-6, hint=hint)
    return f"{text}（{rate:.1%} 的已到期积分没有被兑换）"


@exercise_check
def check_rule_change(
    answer: object,
    rules_table: object,
    transactions: pd.DataFrame,
    rules: Mapping[str, Mapping],
    *,
    analysis_date: object | None = None,
    cost_per_point_yuan: float = 0.01,
    name: str = "extra_liability_yuan",
) -> str:
    """Check a :func:`workbook.points.compare_expiry_rules` table and the liability change of the second rule.

    ``answer`` is the liability (CNY) under the second rule of ``rules`` minus
    the liability under the first.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.points import compare_expiry_rules
    >>> tx = pd.DataFrame({"member_id": ["a", "a"], "timestamp": pd.to_datetime(["2024-04-01", "2024-06-01"]),
    ...                    "points_earned": [500, 0], "points_redeemed": [0, 200]})
    >>> rules = {"当年清零": {"expiry": "year_end"}, "次年清零": {"expiry": "year_end", "expiry_years": 1}}
    >>> t = compare_expiry_rules(tx, rules, analysis_date="2025-01-01")
    >>> check_rule_change(3.0, t, tx, rules, analysis_date="2025-01-01")
    ✓ 通过 (passed) · extra_liability_yuan: extra_liability_yuan = 3 元（改成「次年清零」后账面负债的变化）
    >>> check_rule_change(300, t, tx, rules, analysis_date="2025-01-01").hint
    '这是积分数的差；负债的单位是元：乘以每积分成本 (points x cost per point = CNY).'
    """
    from workbook.points import compare_expiry_rules

    require_previous(rules_table, "rules_table")
    require_answer(answer, name, "用 rules_table 里两种规则的 liability_yuan 相减（新规则 − 旧规则）。")
    expected = compare_expiry_rules(transactions, dict(rules), analysis_date=analysis_date,
                                    cost_per_point_yuan=cost_per_point_yuan)
    compare_frame(rules_table, expected[["expired", "outstanding", "liability_yuan"]], name="rules_table",
                  row_label="规则 (rule)", rtol=1e-9, atol=1e-6,
                  hints={"__rows__": "两种规则都要算：用参数格的 RULES 字典 (pass the RULES dict).",
                         "liability_yuan": "传入 cost_per_point_yuan=COST_PER_POINT。",
                         "expired": "用参数格的 ANALYSIS_DATE 作为 analysis_date。",
                         "outstanding": "用参数格的 ANALYSIS_DATE 作为 analysis_date。"})
    first, second = list(rules)[:2]
    diff = float(expected.loc[second, "liability_yuan"] - expected.loc[first, "liability_yuan"])
    hint = "新规则的负债减旧规则的负债：rules_table.loc[新, 'liability_yuan'] - rules_table.loc[旧, 'liability_yuan']."
    if isinstance(answer, (int, float, np.number)) and not isinstance(answer, bool):
        a = float(answer)
        points_diff = float(expected.loc[second, "outstanding"] - expected.loc[first, "outstanding"])
        if diff != 0 and np.isclose(a, -diff, rtol=1e-6):
            hint = "方向反了：新规则（第二个）减旧规则（第一个）(second rule minus first)."
        elif points_diff != 0 and np.isclose(a, points_diff, rtol=1e-6):
            hint = "这是积分数的差；负债的单位是元：乘以每积分成本 (points x cost per point = CNY)."
    text = compare_number(answer, diff, name=name, rtol=1e-6, atol=0.005, hint=hint, unit=" 元")
    return f"{text}（改成「{second}」后账面负债的变化）"
