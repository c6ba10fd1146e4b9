"""Checks of exercise 4, an A/B test with power analysis (``exercises/source/04_ab_test_power.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from workbook.checks.engine import (
    ExerciseCheckError,
    compare_frame,
    compare_number,
    exercise_check,
    is_missing,
    is_number,
    require_answer,
)

__all__ = ["check_ab_decision", "check_ab_result", "check_sample_size"]


def _per_arm_hint(got: pd.Series, exp: pd.Series, differs: np.ndarray) -> str:
    g = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[differs]
    e = exp.to_numpy(dtype="float64", na_value=np.nan)[differs]
    if np.allclose(g, 2 * e, rtol=1e-3):
        return "这是两组的总人数 (both arms together)；表里要每组的人数 (per arm)."
    return "每一行用该行的 mde 调用 sample_size_proportions(BASELINE_RATE, mde, alpha=ALPHA, power=POWER)."


@exercise_check
def check_sample_size(
    answer: object,
    *,
    baseline_rate: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = False,
    plan: object = None,
    name: str = "n_per_arm",
) -> str:
    """Check the per-arm sample size of a conversion test (reference:
    :func:`workbook.experiments.sample_size_proportions`).

    ``plan`` is the trainee's power-analysis table: one row per candidate
    effect, columns ``mde`` and ``n_per_arm``.  Every row is recomputed, so
    typing the single number does not pass.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.experiments import sample_size_proportions
    >>> plan = pd.DataFrame({"mde": [0.01, 0.02, 0.03]})
    >>> plan["n_per_arm"] = plan["mde"].apply(lambda m: sample_size_proportions(0.10, m))
    >>> check_sample_size(int(plan["n_per_arm"].iloc[1]), baseline_rate=0.10, mde=0.02, plan=plan).status
    'passed'
    >>> check_sample_size(2 * int(plan["n_per_arm"].iloc[1]), baseline_rate=0.10, mde=0.02, plan=plan).hint
    '这是两组的总人数 (both arms together)；题目问的是每组 (per arm).'
    """
    require_answer(answer, name, "用 workbook.experiments.sample_size_proportions(基线转化率, mde, ...) 计算每组人数。")
    from workbook.experiments import sample_size_proportions

    def n_for(m: float, rel: bool = relative) -> int:
        return sample_size_proportions(baseline_rate, float(m), alpha=alpha, power=power, relative=rel)

    require_answer(plan, "power_plan", "先做功效分析表 power_plan（列 mde 和 n_per_arm），再从中取出答案。")
    if not isinstance(plan, pd.DataFrame) or not {"mde", "n_per_arm"} <= set(plan.columns):
        raise ExerciseCheckError(
            "power_plan 应该是一张有 mde 和 n_per_arm 两列的表 (a table with columns mde and n_per_arm)",
            "power_plan = pd.DataFrame({'mde': MDE_OPTIONS})，再加一列 n_per_arm。",
        )
    if len(plan) < 3 or not pd.api.types.is_numeric_dtype(plan["mde"]):
        raise ExerciseCheckError(
            "power_plan 至少要有 3 个不同的 mde，并且 mde 是数字 (at least 3 numeric mde values)",
            "用参数格里的 MDE_OPTIONS 作为 mde 列 (use MDE_OPTIONS).",
        )
    expected_plan = plan[["mde"]].assign(n_per_arm=[n_for(m) for m in plan["mde"]])
    compare_frame(
        plan, expected_plan, name="power_plan", columns=["n_per_arm"], row_label="第几行 (row)", atol=0.5, rtol=0,
        hints={"n_per_arm": _per_arm_hint},
    )
    n = n_for(mde)
    hint = "每组需要的人数 (members per arm)；检查 alpha、power 和 mde 是否与参数格一致。"
    if is_number(answer):
        a = float(answer)
        if np.isclose(a, 2 * n, rtol=1e-3):
            hint = "这是两组的总人数 (both arms together)；题目问的是每组 (per arm)."
        elif np.isclose(a, n_for(mde, not relative), rtol=1e-6):
            hint = f"mde 的口径不对：这里是{'绝对' if not relative else '相对'}提升 (the relative= argument)."
        elif not a.is_integer():
            hint = "人数要向上取整 (round up): sample_size_proportions 已经返回整数。"
    text = compare_number(answer, n, name=name, rtol=0, atol=0.5, hint=hint, unit=" 人")
    return f"{text}（每组），功效分析表 power_plan 的 {len(plan)} 行也都对"


@exercise_check
def check_ab_result(
    answer: object,
    experiment: pd.DataFrame,
    *,
    control: object = "control",
    treatment: object = "treatment",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    name: str = "result",
) -> str:
    """Check a two-proportion test result (reference: :func:`workbook.experiments.proportion_test`).

    ``answer`` is the :class:`~workbook.experiments.ProportionTestResult`; its
    lift, p-value and confidence interval are compared.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.experiments import proportion_test
    >>> df = pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
    ...                    "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})
    >>> check_ab_result(proportion_test(df), df)
    ✓ 通过 (passed) · result: 提升 +8.00 个百分点, p = 0.0211
    >>> check_ab_result(0.0211, df).status
    'failed'
    """
    require_answer(answer, name, "用 workbook.experiments.proportion_test(experiment, alpha=ALPHA) 做检验。")
    from workbook.experiments import proportion_test

    ref = proportion_test(experiment, control=control, treatment=treatment, alpha=alpha, alternative=alternative)
    needed = ["abs_lift", "p_value", "ci_low", "ci_high"]
    if not all(hasattr(answer, a) for a in needed):
        raise ExerciseCheckError(
            f"{name} 应该是 proportion_test 的结果 (a ProportionTestResult)，你的是 {type(answer).__name__}",
            "直接把 proportion_test(...) 的返回值赋给 result，不要只取 p 值，也不要手抄数字。",
        )
    if np.isclose(answer.abs_lift, -ref.abs_lift) and not np.isclose(ref.abs_lift, 0):
        raise ExerciseCheckError(
            f"{name}.abs_lift 的符号反了 (sign flipped): 你的是 {answer.abs_lift:+.4f}",
            "对照组和实验组搞反了 (control and treatment swapped): control='control', treatment='treatment'.",
        )
    for attr in needed:
        exp, got = float(getattr(ref, attr)), float(getattr(answer, attr))
        if not np.isclose(got, exp, rtol=1e-6, atol=1e-9):
            hint = "用默认的 method='score' 和参数格的 ALPHA；检查用的是 experiment 表和 converted 列。"
            if attr == "p_value" and (np.isclose(got, 2 * exp, rtol=1e-3) or np.isclose(got, exp / 2, rtol=1e-3)):
                hint = "单侧/双侧检验搞错了 (one- vs two-sided): 用 alternative='two-sided'."
            raise ExerciseCheckError(f"{name}.{attr} = {got:.6g} 不对 (wrong)", hint)
    return f"提升 {ref.abs_lift * 100:+.2f} 个百分点, p = {ref.p_value:.4f}"


def _decision_cases(alpha: float) -> list[tuple[str, object]]:
    """Small experiments whose right decision is known: (description, result)."""
    from workbook.experiments import proportion_test

    def exp(conv_c: int, conv_t: int, n: int = 400) -> pd.DataFrame:
        arm = ["control"] * n + ["treatment"] * n
        conv = [1] * conv_c + [0] * (n - conv_c) + [1] * conv_t + [0] * (n - conv_t)
        return pd.DataFrame({"arm": arm, "converted": conv})

    return [
        ("提升明显为正 (a clear positive lift)", proportion_test(exp(40, 80), alpha=alpha)),
        ("差异不显著 (not significant)", proportion_test(exp(40, 48), alpha=alpha)),
        ("显著变差 (significantly worse)", proportion_test(exp(80, 40), alpha=alpha)),
    ]


@exercise_check
def check_ab_decision(
    rule: object,
    experiment: pd.DataFrame,
    *,
    alpha: float = 0.05,
    min_lift: float = 0.0,
    name: str = "should_launch",
) -> str:
    """Check a launch rule: launch only if the lift is significant and the whole
    confidence interval lies above ``min_lift``.

    ``rule`` is the trainee's function ``should_launch(r) -> bool`` taking a
    :class:`~workbook.experiments.ProportionTestResult`.  It is applied to the
    experiment and to three small experiments whose right decision is known
    (clear lift, not significant, significantly worse), so a typed ``True``
    does not pass.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control"] * 200 + ["treatment"] * 200,
    ...                    "converted": [1] * 20 + [0] * 180 + [1] * 36 + [0] * 164})
    >>> check_ab_decision(lambda r: bool(r.significant and r.ci_low > 0), df)
    ✓ 通过 (passed) · should_launch: 规则在 4 种情形下都判断正确；这次试验的决定：推广 (launch)
    >>> check_ab_decision(lambda r: r.significant, df).hint
    '显著变差时不能推广：还要求置信区间下限 r.ci_low 大于 0 (significant is not enough: the lift must be positive).'
    """
    from workbook.experiments import proportion_test

    require_answer(rule, name, "写一个函数 should_launch(r)，返回 True（推广）或 False（不推广）。")
    if not callable(rule):
        raise ExerciseCheckError(
            f"{name} 应该是一个函数 (a function)，你的是 {type(rule).__name__}",
            "保留 def should_launch(r): 的写法，在函数里 return 一个判断 (return a condition).",
        )
    ref = proportion_test(experiment, alpha=alpha)
    cases = [*_decision_cases(alpha), ("这次试验 (this experiment)", ref)]
    for what, res in cases:
        expected = bool(res.significant and res.ci_low > min_lift)
        try:
            got = rule(res)
        except Exception as err:  # the trainee's own function failed: say so, without a traceback
            raise ExerciseCheckError(
                f"运行 {name}(r) 时出错 (your rule raised {type(err).__name__})",
                "r 是 proportion_test 的结果：用 r.significant、r.p_value、r.ci_low、r.ci_high。",
            ) from None
        if is_missing(got):
            raise ExerciseCheckError(
                f"{name}(r) 还没有返回判断 (returns {got!r})",
                "在函数里写 return ...，返回 True 或 False。",
                status="not_answered",
            )
        if not isinstance(got, (bool, np.bool_)):
            raise ExerciseCheckError(
                f"{name}(r) 应该返回 True 或 False，你的返回 {type(got).__name__}",
                "返回一个比较表达式，例如 r.p_value < ALPHA (return a comparison).",
            )
        if bool(got) != expected:
            if "显著变差" in what:
                hint = "显著变差时不能推广：还要求置信区间下限 r.ci_low 大于 0 (significant is not enough: the lift must be positive)."
            elif "不显著" in what:
                hint = "差异不显著时不推广：先看 r.significant（或 r.p_value < ALPHA）(not significant: do not launch)."
            else:
                hint = "规则：显著 (r.significant) 并且 置信区间下限 r.ci_low > 0 时推广，其他情况都不推广。"
            raise ExerciseCheckError(f"{name} 在“{what}”的情形下判断错了 (wrong decision)", hint)
    decision = "推广 (launch)" if ref.significant and ref.ci_low > min_lift else "不推广 (do not launch)"
    return f"规则在 {len(cases)} 种情形下都判断正确；这次试验的决定：{decision}"
